static const TypeInfo sb = {
    .parent = TYPE_SYS_BUS_DEVICE,
};
