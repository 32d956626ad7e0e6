/*
 * A small timer device, written for the migbot tests.
 */

#include "qemu/osdep.h"
#include "migration/vmstate.h"
#include "hw/timer/demo_timer.h"

static bool demo_timer_irq_needed(void *opaque)
{
    DemoTimerState *s = opaque;

    return s->irq_level != 0;
}

static const VMStateDescription vmstate_demo_timer_irq = {
    .name = "demo-timer/irq",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = demo_timer_irq_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(irq_level, DemoTimerState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_demo_timer = {
    .name = "demo-timer",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(count, DemoTimerState),
        VMSTATE_UINT32(reload, DemoTimerState),
        VMSTATE_UINT64_V(deadline, DemoTimerState, 2),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_demo_timer_irq,
        NULL
    }
};

static void demo_timer_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->vmsd = &vmstate_demo_timer;
}
