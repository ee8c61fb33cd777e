// arm.trap: every trap a guest can cause at EL2, decoded into typed events, and the
// completions that apply the hypervisor's answers, and the exit rules (one row per event). Pure code: values
// in, values out.
export module arm.trap;
export import :registers;
export import :esr;
export import :events;
export import :fault;
export import :mmio;
export import :abort;
export import :sysreg;
export import :sgi;
export import :debug;
export import :decode;
export import :completion;
export import :inject;
export import :rules;
