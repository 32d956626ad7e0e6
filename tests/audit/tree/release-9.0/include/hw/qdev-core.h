#ifndef HW_QDEV_CORE_H
#define HW_QDEV_CORE_H

#define TYPE_DEVICE "device"
#define TYPE_SYS_BUS_DEVICE "sys-bus-device"
#define TYPE_ISA_DEVICE ("isa-device")
#define TYPE_ACME_UART "acme-uart"
#define TYPE_ACME_CARD "acme" "-card"

#endif
