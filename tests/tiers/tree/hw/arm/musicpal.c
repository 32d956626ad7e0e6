DEFINE_MACHINE_ARM("musicpal", musicpal_machine_init)
