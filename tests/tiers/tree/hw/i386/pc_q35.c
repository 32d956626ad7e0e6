
#define DEFINE_Q35_MACHINE(major, minor) \
    DEFINE_PC_VER_MACHINE(pc_q35, "pc-q35", pc_q35_init, false, NULL, major, minor);
DEFINE_Q35_MACHINE(10, 2)
DEFINE_Q35_MACHINE(9, 2)
