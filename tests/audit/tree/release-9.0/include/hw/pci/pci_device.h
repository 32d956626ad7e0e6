#ifndef HW_PCI_DEVICE_H
#define HW_PCI_DEVICE_H

#define TYPE_PCI_DEVICE "pci-device"

extern const VMStateDescription vmstate_pci_device;

#define VMSTATE_PCI_DEVICE(_field, _state) \
    VMSTATE_STRUCT(_field, _state, 0, vmstate_pci_device, PCIDevice)

#endif
