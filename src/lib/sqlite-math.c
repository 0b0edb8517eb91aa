/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sqlite-math: the libm functions behind SQLite's SQL math functions (sin(),
 * pow(), ...), loaded from libm at their first call.
 *
 * The static SQLite goldroot links refers to them, which made every command
 * load libm.so at start (about 0.1 ms of the dynamic loader's time, on a
 * process that starts for each command), while goldroot's own SQL calls
 * none of them. These definitions come first at link time (meson links
 * this file whole), so the linker resolves SQLite's references here and,
 * with --as-needed, drops libm; a libm function a later SQLite needs and
 * this file lacks still comes from libm, as before.
 */
#include "util.h"

#include <math.h>

/* Every function below, by its arity. */
/* clang-format off */
#define MATH_FUNCTIONS(U, B)                                                   \
        U(acos) U(acosh) U(asin) U(asinh) U(atan) U(atanh) U(cos) U(cosh)      \
        U(exp) U(log) U(sin) U(sinh) U(sqrt) U(tan) U(tanh) U(trunc)           \
        B(atan2) B(fmod) B(pow)
/* clang-format on */

MATH_FUNCTIONS(DLSYM_DEFINE, DLSYM_DEFINE)

static void *libm;

/* -EOPNOTSUPP (one error line) if libm cannot be loaded: the function then
 * returns NAN, which SQLite's math functions turn into NULL. */
static int load_libm(void) {
        static const DlSym syms[] = {MATH_FUNCTIONS(DLSYM_ENTRY, DLSYM_ENTRY)};

        return dlopen_symbols("libm.so.6", &libm, syms, ELEMENTSOF(syms));
}

#define DEFINE_UNARY(f)                                                                            \
        double f(double x) {                                                                       \
                return load_libm() < 0 ? NAN : sym_##f(x);                                         \
        }
#define DEFINE_BINARY(f)                                                                           \
        double f(double x, double y) {                                                             \
                return load_libm() < 0 ? NAN : sym_##f(x, y);                                      \
        }
MATH_FUNCTIONS(DEFINE_UNARY, DEFINE_BINARY)
