#ifndef HW_WIDGET_TIMER_H
#define HW_WIDGET_TIMER_H

extern const VMStateDescription vmstate_widget_timer;

/* The timer state is at version 1 of its users. */
#define VMSTATE_WIDGET_TIMER(_f, _s) \
    VMSTATE_STRUCT(_f, _s, 1, vmstate_widget_timer, WidgetTimer)

#endif
