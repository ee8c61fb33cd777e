#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

import arm.fdt;

namespace {
using Kind = arm::fdt::Token::Kind;

std::vector<std::uint8_t> sample_tree() {
  std::vector<std::uint8_t> buffer(4096);
  arm::fdt::Writer writer(buffer.data(), buffer.size());
  CHECK(writer.begin_node(""));
  CHECK(writer.property_u32("#address-cells", 2));
  CHECK(writer.begin_node("memory@40000000"));
  CHECK(writer.property_string("device_type", "memory"));
  CHECK(writer.property_reg("reg", 0x4000'0000, 0x2000'0000));
  CHECK(writer.end_node());
  CHECK(writer.begin_node("chosen"));
  CHECK(writer.property_string("bootargs", "console=ttyAMA0"));
  CHECK(writer.end_node());
  CHECK(writer.end_node());
  const std::size_t size = writer.finish();
  REQUIRE(size > 0);
  buffer.resize(size);
  return buffer;
}
}  // namespace

TEST_CASE("a tree written by Writer reads back token by token") {
  const auto blob = sample_tree();
  REQUIRE(arm::fdt::Reader::valid(blob.data(), blob.size()));
  arm::fdt::Reader reader(blob.data());
  CHECK(reader.total_size() == blob.size());
  auto token = reader.next();
  CHECK(token.kind == Kind::BeginNode);
  CHECK(std::string(token.name).empty());
  token = reader.next();
  CHECK(token.kind == Kind::Property);
  CHECK(std::string(token.name) == "#address-cells");
  CHECK(arm::fdt::cell(token.data, 0) == 2);
  token = reader.next();
  CHECK(std::string(token.name) == "memory@40000000");
  token = reader.next();
  CHECK(std::string(token.name) == "device_type");
  CHECK(std::string(reinterpret_cast<const char*>(token.data)) == "memory");
  token = reader.next();
  CHECK(std::string(token.name) == "reg");
  REQUIRE(token.size == 16);
  CHECK(arm::fdt::cell(token.data, 1) == 0x4000'0000);
  CHECK(arm::fdt::cell(token.data, 3) == 0x2000'0000);
  CHECK(reader.next().kind == Kind::EndNode);
  token = reader.next();
  CHECK(std::string(token.name) == "chosen");
  token = reader.next();
  CHECK(std::string(reinterpret_cast<const char*>(token.data)) == "console=ttyAMA0");
  CHECK(reader.next().kind == Kind::EndNode);
  CHECK(reader.next().kind == Kind::EndNode);
  CHECK(reader.next().kind == Kind::End);
}

TEST_CASE("the writer reports a full buffer instead of overrunning it") {
  std::vector<std::uint8_t> buffer(80, 0xee);
  arm::fdt::Writer writer(buffer.data(), 64);
  writer.begin_node("");
  writer.property_string("bootargs", "a long command line that cannot fit in 64 bytes");
  writer.end_node();
  CHECK(writer.finish() == 0);
  for (std::size_t i = 64; i < buffer.size(); ++i) CHECK(buffer[i] == 0xee);
}

TEST_CASE("an unbalanced tree is not finished") {
  std::vector<std::uint8_t> buffer(512);
  arm::fdt::Writer writer(buffer.data(), buffer.size());
  writer.begin_node("");
  CHECK(writer.finish() == 0);
}

TEST_CASE("corrupt input gives an Error token, never a read past the structure block") {
  auto blob = sample_tree();
  CHECK_FALSE(arm::fdt::Reader::valid(blob.data(), 20));
  blob[3] ^= 1;  // magic
  CHECK_FALSE(arm::fdt::Reader::valid(blob.data(), blob.size()));
  blob[3] ^= 1;
  // Overwrite the first token with garbage.
  blob[56] = 0x77;
  arm::fdt::Reader reader(blob.data());
  CHECK(reader.next().kind == Kind::Error);
}
