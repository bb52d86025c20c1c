/* Stand-in for the frozen ektp-station.exe in installer tests (a Windows CPython cannot be
 * built on Linux). It speaks just enough of the station's CLI (DESIGN.md) for installer.nsi:
 *
 *   [--home DIR] status --pending
 *                                NO_STATION when DIR\DB_NAME does not exist (like the app);
 *                                else the bytes of DIR\standin-pending.txt as they are (the
 *                                test writes the answer; default "0\n"), or, when that file
 *                                says "fail", a line on stderr and exit 1
 *   [--home DIR] provision --server URL --code CODE
 *                                records its arguments in DIR\standin-provision.txt;
 *                                CODE "REJECTED" = exit 2, like a refused one-time code
 *   hold-mutex DIR               creates the app's named mutex (MUTEX_NAME, from
 *                                app/single_instance.py via standin_config.h), writes
 *                                DIR\mutex-held, and holds it until DIR\mutex-release exists
 *                                (at most 300 s: the test releases it; the bound is only for
 *                                a test that dies, and must outlast installers on a loaded
 *                                machine)
 *
 * DIR defaults to %ProgramData%\APP_DIR_NAME, the app's default station home on Windows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>
#include <fcntl.h>
#include <io.h>

#include "standin_config.h" /* APP_DIR_NAME, MUTEX_NAME, DB_NAME, NO_STATION (wide strings),
                               written by the tests from the app's constants */

static wchar_t home[MAX_PATH];

static void path_in_home(wchar_t *out, const wchar_t *name) {
    _snwprintf(out, MAX_PATH, L"%ls\\%ls", home, name);
    out[MAX_PATH - 1] = 0;
}

static int file_exists(const wchar_t *path) {
    return GetFileAttributesW(path) != INVALID_FILE_ATTRIBUTES;
}

static int status_pending(void) {
    wchar_t path[MAX_PATH];
    char buf[256] = "0\n";
    size_t n = 2;
    path_in_home(path, DB_NAME);
    if (!file_exists(path)) {
        printf("%ls\n", NO_STATION);
        return 0;
    }
    path_in_home(path, L"standin-pending.txt");
    FILE *f = _wfopen(path, L"rb");
    if (f) {
        n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
    }
    if (strncmp(buf, "fail", 4) == 0) {
        fprintf(stderr, "ektp-station: error: storage (io): the disk reported an input/output error\n");
        return 1;
    }
    _setmode(_fileno(stdout), _O_BINARY); /* the test's bytes, line ends included */
    fwrite(buf, 1, n, stdout);
    return 0;
}

static int provision(int argc, wchar_t **argv) {
    wchar_t path[MAX_PATH];
    CreateDirectoryW(home, NULL);
    path_in_home(path, L"standin-provision.txt");
    FILE *f = _wfopen(path, L"w");
    if (!f) return 1;
    for (int i = 0; i < argc; i++) fwprintf(f, L"%ls\n", argv[i]);
    fclose(f);
    for (int i = 0; i + 1 < argc; i++)
        if (wcscmp(argv[i], L"--code") == 0 && wcscmp(argv[i + 1], L"REJECTED") == 0) {
            fprintf(stderr, "code: rejected by the server\n");
            return 2;
        }
    return 0;
}

static int hold_mutex(void) {
    wchar_t held[MAX_PATH], release[MAX_PATH];
    HANDLE mutex = CreateMutexW(NULL, FALSE, MUTEX_NAME);
    if (!mutex) return 1;
    CreateDirectoryW(home, NULL);
    path_in_home(held, L"mutex-held");
    path_in_home(release, L"mutex-release");
    FILE *f = _wfopen(held, L"w");
    if (f) fclose(f);
    for (int i = 0; i < 3000 && !file_exists(release); i++) Sleep(100);
    CloseHandle(mutex);
    return 0;
}

int wmain(int argc, wchar_t **argv) {
    int i = 1;
    wchar_t programdata[MAX_PATH];
    if (!GetEnvironmentVariableW(L"ProgramData", programdata, MAX_PATH))
        wcscpy(programdata, L"C:\\ProgramData");
    _snwprintf(home, MAX_PATH, L"%ls\\%ls", programdata, APP_DIR_NAME);
    if (i + 1 < argc && wcscmp(argv[i], L"--home") == 0) {
        wcsncpy(home, argv[i + 1], MAX_PATH - 1);
        i += 2;
    }
    if (i >= argc) return 0; /* the GUI: nothing to do here */
    if (wcscmp(argv[i], L"status") == 0 && i + 1 < argc && wcscmp(argv[i + 1], L"--pending") == 0)
        return status_pending();
    if (wcscmp(argv[i], L"provision") == 0) return provision(argc - i, argv + i);
    if (wcscmp(argv[i], L"hold-mutex") == 0) {
        if (i + 1 < argc) wcsncpy(home, argv[i + 1], MAX_PATH - 1);
        return hold_mutex();
    }
    fprintf(stderr, "command: unknown\n");
    return 2;
}
