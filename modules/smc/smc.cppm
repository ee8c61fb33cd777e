// arm.smc: the SMC Calling Convention (Arm DEN0028) and, on top of it, the calls a
// hypervisor answers for its guests. One concern per partition:
//   :smccc     function ids, return codes, call registers, tables of the hypervisor
//   :arch      Arm Architecture calls: SMCCC_VERSION, SMCCC_ARCH_FEATURES, workarounds
//   :psci      PSCI 1.1 (Arm DEN0022) for guests, and its typed events
//   :firmware  the allow-list and the conduit that forward an SMC to the real firmware
//   :dispatch  dispatch(): a guest's call and the hypervisor's policy -> one decision
//   :answer    from arm.trap's Hypercall/SecureMonitorCall events to dispatch() and back
export module arm.smc;
export import :smccc;
export import :arch;
export import :psci;
export import :firmware;
export import :dispatch;
export import :answer;
