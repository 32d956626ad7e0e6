static const TypeInfo vn = {
    .parent = TYPE_VIRTIO_DEVICE,
};
