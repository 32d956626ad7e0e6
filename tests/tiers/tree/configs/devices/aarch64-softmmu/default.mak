include ../arm-softmmu/default.mak
