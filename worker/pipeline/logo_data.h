/*
 * logo_data.h - the bytes of the built-in logo PNG.
 */
#ifndef SC_LOGO_DATA_H
#define SC_LOGO_DATA_H

#include <stddef.h>

extern const unsigned char sc_logo_png[];
size_t logo_data_size(void);

#endif
