/* Stands in for icacls.exe and net.exe in the installer tests: wine's own are stubs that do
 * nothing, so a test cannot see a folder's ACL. This records the command line the installer
 * ran, one line each, in C:\recorded-commands.txt, and exits 5 (as icacls does when it cannot
 * set an ACL) while C:\recorder-fails exists, else 0.
 */
#include <stdio.h>
#include <windows.h>

int wmain(void) {
    FILE *f = _wfopen(L"C:\\recorded-commands.txt", L"a, ccs=UTF-8");
    if (f == NULL) return 9;
    fwprintf(f, L"%ls\n", GetCommandLineW());
    fclose(f);
    return GetFileAttributesW(L"C:\\recorder-fails") == INVALID_FILE_ATTRIBUTES ? 0 : 5;
}
