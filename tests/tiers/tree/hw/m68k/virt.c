
#define DEFINE_VIRT_MACHINE_IMPL(latest, ...) \
    static const TypeInfo MACHINE_VER_SYM(info, x, __VA_ARGS__) = { \
        .name = MACHINE_VER_TYPE_NAME("virt", __VA_ARGS__), \
        .parent = TYPE_X_MACHINE, \
    };
#define DEFINE_VIRT_MACHINE_AS_LATEST(major, minor) DEFINE_VIRT_MACHINE_IMPL(true, major, minor)
#define DEFINE_VIRT_MACHINE(major, minor) DEFINE_VIRT_MACHINE_IMPL(false, major, minor)

DEFINE_VIRT_MACHINE_AS_LATEST(10, 2)
DEFINE_VIRT_MACHINE(10, 1)

static const TypeInfo virt_machine_info = {
    .name          = MACHINE_TYPE_NAME("virt"),
    .parent        = TYPE_MACHINE,
    .abstract      = true,
};
