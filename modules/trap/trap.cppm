// arm.trap: every trap a guest can cause at EL2, decoded into typed events, and the
// completions that apply the hypervisor's answers. Pure code: values in, values out.
export module arm.trap;
export import :registers;
export import :esr;
export import :events;
export import :decode;
export import :completion;
