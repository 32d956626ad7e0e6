GlobalProperty hw_compat_10_2[] = {
    { "demo-timer", "x-irq-state", "off" },
};
const size_t hw_compat_10_2_len = G_N_ELEMENTS(hw_compat_10_2);

GlobalProperty hw_compat_10_1[] = {
    { "demo-uart", "x-fifo", "off" },
};
const size_t hw_compat_10_1_len = G_N_ELEMENTS(hw_compat_10_1);
