#define MII_BMCR 0
