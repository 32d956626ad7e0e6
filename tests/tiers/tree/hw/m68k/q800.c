static const TypeInfo q800 = {
    .name = MACHINE_TYPE_NAME("q800"),
};
