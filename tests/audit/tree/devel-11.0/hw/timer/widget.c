#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "hw/widget-timer.h"

static const VMStateDescription vmstate_widget = {
    .name = "widget",
    .fields = (const VMStateField[]) {
        VMSTATE_WIDGET_TIMER(timer, WidgetState),
        VMSTATE_UINT16(ctrl, WidgetState),
        VMSTATE_END_OF_LIST()
    }
};
