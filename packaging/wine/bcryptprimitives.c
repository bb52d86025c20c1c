/* bcryptprimitives.dll for wine 8 (Debian 12), which has none: ProcessPrng, the one function
   Rust's standard library (and so cryptography's _rust.pyd) imports from it, filled from
   advapi32's RtlGenRandom (SystemFunction036), the generator wine's own bcrypt uses.
   Only for the Windows build made and tried under wine (scripts/wine_windows.py); Windows 10
   and later have the real one. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
