static const TypeInfo plug_info = {
    .parent = TYPE_PCI_DEVICE,
};
