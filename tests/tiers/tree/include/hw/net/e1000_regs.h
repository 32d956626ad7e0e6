#include "hw/net/mii.h"
