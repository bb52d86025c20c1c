/* icuuc.dll for wine, which has none: the twenty ICU converter functions Qt6Core.dll imports
   from Windows' own ICU (Windows 10 1903 and later), for legacy text codecs only; UTF-8 and
   UTF-16 never reach them. Here no converter opens (U_FILE_ACCESS_ERROR), which Qt takes as an
   unknown codec. Only for the Windows build made and tried under wine (scripts/wine_windows.py). */
#include <stddef.h>
#include <stdint.h>
typedef int UErrorCode;
typedef uint16_t UChar;
#define U_FILE_ACCESS_ERROR 4
#define U_UNSUPPORTED_ERROR 16
static void fail(UErrorCode *e) { if (e && *e <= 0) *e = U_UNSUPPORTED_ERROR; }
void *ucnv_open(const char *name, UErrorCode *e) { (void)name; if (e && *e <= 0) *e = U_FILE_ACCESS_ERROR; return NULL; }
void ucnv_close(void *c) { (void)c; }
int32_t ucnv_countAvailable(void) { return 0; }
const char *ucnv_getAvailableName(int32_t n) { (void)n; return NULL; }
const char *ucnv_getName(const void *c, UErrorCode *e) { (void)c; fail(e); return NULL; }
const char *ucnv_getStandardName(const char *n, const char *s, UErrorCode *e) { (void)n; (void)s; fail(e); return NULL; }
int8_t ucnv_getMaxCharSize(const void *c) { (void)c; return 4; }
void ucnv_reset(void *c) { (void)c; }
int32_t ucnv_fromUCountPending(const void *c, UErrorCode *e) { (void)c; fail(e); return 0; }
int32_t ucnv_toUCountPending(const void *c, UErrorCode *e) { (void)c; fail(e); return 0; }
void ucnv_fromUnicode(void *c, char **t, const char *tl, const UChar **s, const UChar *sl, int32_t *o, int f, UErrorCode *e) { (void)c;(void)t;(void)tl;(void)s;(void)sl;(void)o;(void)f; fail(e); }
void ucnv_toUnicode(void *c, UChar **t, const UChar *tl, const char **s, const char *sl, int32_t *o, int f, UErrorCode *e) { (void)c;(void)t;(void)tl;(void)s;(void)sl;(void)o;(void)f; fail(e); }
void ucnv_getFromUCallBack(const void *c, void **a, const void **b) { (void)c; if (a) *a = NULL; if (b) *b = NULL; }
void ucnv_getToUCallBack(const void *c, void **a, const void **b) { (void)c; if (a) *a = NULL; if (b) *b = NULL; }
void ucnv_setFromUCallBack(void *c, void *n, const void *nc, void **o, const void **oc, UErrorCode *e) { (void)c;(void)n;(void)nc; if (o) *o = NULL; if (oc) *oc = NULL; fail(e); }
void ucnv_setToUCallBack(void *c, void *n, const void *nc, void **o, const void **oc, UErrorCode *e) { (void)c;(void)n;(void)nc; if (o) *o = NULL; if (oc) *oc = NULL; fail(e); }
void ucnv_cbFromUWriteUChars(void *a, const UChar **s, const UChar *sl, int32_t o, UErrorCode *e) { (void)a;(void)s;(void)sl;(void)o; fail(e); }
void ucnv_cbToUWriteUChars(void *a, const UChar *s, int32_t l, int32_t o, UErrorCode *e) { (void)a;(void)s;(void)l;(void)o; fail(e); }
void UCNV_FROM_U_CALLBACK_SUBSTITUTE(const void *c, void *a, const UChar *u, int32_t l, int32_t cp, int r, UErrorCode *e) { (void)c;(void)a;(void)u;(void)l;(void)cp;(void)r; fail(e); }
void UCNV_TO_U_CALLBACK_SUBSTITUTE(const void *c, void *a, const char *b, int32_t l, int r, UErrorCode *e) { (void)c;(void)a;(void)b;(void)l;(void)r; fail(e); }
