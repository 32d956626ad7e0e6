static const TypeInfo rv = {
    .name = MACHINE_TYPE_NAME("virt"),
};
