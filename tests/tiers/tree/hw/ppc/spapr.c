
#define DEFINE_SPAPR_MACHINE_IMPL(latest, ...) \
    static const TypeInfo MACHINE_VER_SYM(info, x, __VA_ARGS__) = { \
        .name = MACHINE_VER_TYPE_NAME("pseries", __VA_ARGS__), \
        .parent = TYPE_X_MACHINE, \
    };
#define DEFINE_SPAPR_MACHINE_AS_LATEST(major, minor) DEFINE_SPAPR_MACHINE_IMPL(true, major, minor)
#define DEFINE_SPAPR_MACHINE(major, minor) DEFINE_SPAPR_MACHINE_IMPL(false, major, minor)

DEFINE_SPAPR_MACHINE_AS_LATEST(10, 2)
DEFINE_SPAPR_MACHINE(10, 1)
