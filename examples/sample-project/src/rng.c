#include "sample.h"

static uint64_t state = 1;

void rng_seed(uint64_t seed) { state = seed ? seed : 1; }

/* xorshift64* */
uint64_t rng_next(void)
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
}
