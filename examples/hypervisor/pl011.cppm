// hv.pl011: an emulated PL011 UART (Arm PrimeCell UART PL011 TRM, DDI 0183) for the
// guest's console, by trap-and-emulate: its page is left out of the stage-2 map, so every
// access is an MMIO exit handled here. Output goes to the hypervisor's own console.
//
// The model: the transmit FIFO is always empty (output is written at once), so FR says
// TXFE and the transmit interrupt status (RIS.TXRIS) is always raised. Input the
// hypervisor receives on its own console is passed in with receive() and waits in a
// 16-entry receive FIFO (the PL011's depth, DDI 0183 2.4.3); while it holds a character
// the receive interrupt status (RIS.RXRIS) and the receive timeout status (RIS.RTRIS)
// are raised, as a real PL011 raises one or the other until its FIFO is read empty. The
// interrupt line is high while a raised status is unmasked (IMSC): level-sensitive.
module;
#include <stdint.h>
export module hv.pl011;

export namespace hv {

class EmulatedPl011 {
 public:
  static constexpr uint64_t kSize = 0x1000;

  // Register offsets (DDI 0183, 3.2 "Summary of registers").
  static constexpr uint64_t kDr = 0x000, kRsr = 0x004, kFr = 0x018, kIlpr = 0x020, kIbrd = 0x024,
                            kFbrd = 0x028, kLcrH = 0x02c, kCr = 0x030, kIfls = 0x034, kImsc = 0x038,
                            kRis = 0x03c, kMis = 0x040, kIcr = 0x044, kDmacr = 0x048, kPeriphId0 = 0xfe0;
  // UARTFR bits.
  static constexpr uint32_t kFrRxfe = 1u << 4, kFrRxff = 1u << 6, kFrTxfe = 1u << 7;
  // Interrupt bits (IMSC, RIS, MIS, ICR).
  static constexpr uint32_t kRxInterrupt = 1u << 4, kTxInterrupt = 1u << 5, kRxTimeoutInterrupt = 1u << 6;
  static constexpr unsigned kFifoDepth = 16;
  // PeriphID0-3 and PCellID0-3: part 0x011, designer 0x41 (Arm), revision 3, and the
  // PrimeCell ID 0xB105F00D; the AMBA bus driver identifies the device by them.
  static constexpr uint8_t kIdRegisters[8] = {0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

  // Where transmitted characters go: output(context, c).
  using Output = void (*)(void* context, char c);
  EmulatedPl011(Output output, void* context) noexcept : output_(output), output_context_(context) {}

  // Reading DR takes a character from the receive FIFO (0 when it is empty).
  uint64_t read(uint64_t offset) noexcept {
    switch (offset) {
      case kDr:
        return pop_received();
      case kRsr:  // no receive error is ever recorded
        return 0;
      case kFr:
        return kFrTxfe | (rx_count_ == 0 ? kFrRxfe : 0) | (rx_count_ == kFifoDepth ? kFrRxff : 0);
      case kIlpr:
        return ilpr_;
      case kIbrd:
        return ibrd_;
      case kFbrd:
        return fbrd_;
      case kLcrH:
        return lcr_h_;
      case kCr:
        return cr_;
      case kIfls:
        return ifls_;
      case kImsc:
        return imsc_;
      case kRis:
        return raw_status();
      case kMis:
        return raw_status() & imsc_;
      case kDmacr:
        return dmacr_;
      default:
        if (offset >= kPeriphId0 && offset < kSize && (offset & 3) == 0)
          return kIdRegisters[(offset - kPeriphId0) / 4];
        return 0;
    }
  }

  void write(uint64_t offset, uint64_t value) noexcept {
    const auto v = static_cast<uint32_t>(value);
    switch (offset) {
      case kDr:
        output_(output_context_, static_cast<char>(v & 0xff));
        ++characters_written_;
        break;
      case kIlpr:
        ilpr_ = v & 0xff;
        break;
      case kIbrd:
        ibrd_ = v & 0xffff;
        break;
      case kFbrd:
        fbrd_ = v & 0x3f;
        break;
      case kLcrH:
        lcr_h_ = v & 0xff;
        break;
      case kCr:
        cr_ = v & 0xffff;
        break;
      case kIfls:
        ifls_ = v & 0x3f;
        break;
      case kImsc:
        imsc_ = v & 0x7ff;
        break;
      case kDmacr:
        dmacr_ = v & 0x7;
        break;
      default:
        break;  // RSR/ECR clears errors (there are none), ICR clears nothing that stays
    }
  }

  // A character arrived for the guest. False when the receive FIFO is full: like a real
  // PL011 (which would record an overrun), the character is not stored.
  bool receive(char c) noexcept {
    if (rx_count_ == kFifoDepth) return false;
    rx_fifo_[(rx_head_ + rx_count_) % kFifoDepth] = static_cast<uint8_t>(c);
    ++rx_count_;
    return true;
  }

  bool can_receive() const noexcept { return rx_count_ != kFifoDepth; }

  // The UART's interrupt line (level sensitive).
  bool interrupt_pending() const noexcept { return (raw_status() & imsc_) != 0; }
  uint64_t characters_written() const noexcept { return characters_written_; }

 private:
  uint32_t raw_status() const noexcept {
    return kTxInterrupt | (rx_count_ != 0 ? kRxInterrupt | kRxTimeoutInterrupt : 0);
  }

  uint8_t pop_received() noexcept {
    if (rx_count_ == 0) return 0;
    const uint8_t c = rx_fifo_[rx_head_];
    rx_head_ = (rx_head_ + 1) % kFifoDepth;
    --rx_count_;
    return c;
  }

  Output output_;
  void* output_context_;
  uint32_t ilpr_ = 0, ibrd_ = 0, fbrd_ = 0, lcr_h_ = 0, cr_ = 0x300, ifls_ = 0x12, imsc_ = 0, dmacr_ = 0;
  uint64_t characters_written_ = 0;
  uint8_t rx_fifo_[kFifoDepth] = {};
  unsigned rx_head_ = 0, rx_count_ = 0;
};

}  // namespace hv
