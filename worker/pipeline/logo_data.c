/*
 * logo_data.c - the built-in logo (worker/assets/logo.png), linked in so
 * the programs need no data files.  The Makefile makes this object depend
 * on the PNG.
 */
#include <stddef.h>

#include "logo_data.h"

__asm__(".section .rodata\n"
	".balign 16\n"
	".global sc_logo_png\n"
	"sc_logo_png:\n"
	".incbin \"worker/assets/logo.png\"\n"
	".global sc_logo_png_end\n"
	"sc_logo_png_end:\n"
	".previous\n");

extern const unsigned char sc_logo_png_end[];

size_t logo_data_size(void)
{
	return (size_t)(sc_logo_png_end - sc_logo_png);
}
