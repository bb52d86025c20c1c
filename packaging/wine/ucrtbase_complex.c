/* The C99 complex functions wine 8's ucrtbase leaves unimplemented (each aborts the process:
   numpy calls crealf while it loads). A native ucrtbase.dll made of these and forwarders to
   wine's own ucrtbase (copied as ucrtwine.dll) for every other export; the .def file is made
   from that copy's export table (scripts/wine_windows.py). Only for the Windows build made and
   tried under wine; Windows has the real UCRT.

   MSVC's complex types are structs (_Fcomplex, _Dcomplex; its long double is a double), passed
   and returned as the x64 calling convention passes structs, which gcc follows for a struct of
   the same layout. */
#include <complex.h>

typedef struct { float v[2]; } Fc;
typedef struct { double v[2]; } Dc;

static inline float complex tf(Fc z) { return __builtin_complex(z.v[0], z.v[1]); }
static inline double complex td(Dc z) { return __builtin_complex(z.v[0], z.v[1]); }
static inline Fc ff(float complex z) { Fc r = {{crealf(z), cimagf(z)}}; return r; }
static inline Dc fd(double complex z) { Dc r = {{creal(z), cimag(z)}}; return r; }

#define UNARY(op)                                                  \
    Fc my_##op##f(Fc z) { return ff(op##f(tf(z))); }               \
    Dc my_##op(Dc z) { return fd(op(td(z))); }                     \
    Dc my_##op##l(Dc z) { return fd(op(td(z))); }

UNARY(ccos) UNARY(ccosh) UNARY(cexp) UNARY(csin) UNARY(csinh) UNARY(ctan) UNARY(ctanh)

Fc my_cpowf(Fc a, Fc b) { return ff(cpowf(tf(a), tf(b))); }
Dc my_cpow(Dc a, Dc b) { return fd(cpow(td(a), td(b))); }
Dc my_cpowl(Dc a, Dc b) { return fd(cpow(td(a), td(b))); }
float my_cabsf(Fc z) { return cabsf(tf(z)); }
double my_cabsl(Dc z) { return cabs(td(z)); }
float my_cargf(Fc z) { return cargf(tf(z)); }
double my_carg(Dc z) { return carg(td(z)); }
double my_cargl(Dc z) { return carg(td(z)); }
float my_crealf(Fc z) { return z.v[0]; }
double my_creal(Dc z) { return z.v[0]; }
double my_creall(Dc z) { return z.v[0]; }
float my_cimagf(Fc z) { return z.v[1]; }
double my_cimag(Dc z) { return z.v[1]; }
double my_cimagl(Dc z) { return z.v[1]; }
