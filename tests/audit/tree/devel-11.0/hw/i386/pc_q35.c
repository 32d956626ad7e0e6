#include "qemu/osdep.h"
#include "hw/boards.h"

static void pc_q35_machine_11_0_options(MachineClass *m)
{
    pc_q35_machine_options(m);
}

DEFINE_Q35_MACHINE_AS_LATEST(11, 0);

static void pc_q35_machine_10_1_options(MachineClass *m)
{
    pc_q35_machine_11_0_options(m);
    compat_props_add(m->compat_props, hw_compat_10_1, hw_compat_10_1_len);
}

DEFINE_Q35_MACHINE(10, 1);

static void pc_q35_machine_9_0_options(MachineClass *m)
{
    pc_q35_machine_10_1_options(m);
    compat_props_add(m->compat_props, hw_compat_9_0, hw_compat_9_0_len);
}

DEFINE_Q35_MACHINE(9, 0);

static void pc_q35_machine_3_1_options(MachineClass *m)
{
    pc_q35_machine_9_0_options(m);
}

DEFINE_Q35_MACHINE(3, 1);
