; Windows installer for the e-KTP enrollment station.
;
;   makensis -WX /DVERSION=x.y.z /DPAYLOAD=<PyInstaller one-folder output> [/DOUTFILE=setup.exe] installer.nsi
;
; The version comes from pyproject.toml (scripts/build-installer.sh, .github/workflows/windows.yml).
; The data dir name and the "app is running" mutex name are read from the Python sources the
; app itself uses (app/paths.py, app/single_instance.py), so there is one constant for each.
;
; Silent switches (technicians):  /S  /D=<install dir, last>  /SERVER=<url> /CODE=<code>
;                                 /USERS=<account>[,<account>...] (the station's Windows accounts)
; Uninstaller:                    /S  /REMOVEDATA  (refused unless `status --pending` says 0 or none)
; Exit codes: 0 done, 1 cancelled, 2 refused (app running, bad switches, downgrade, records
; not yet sent, ...), 3 installed but provisioning failed, 4 installed but the data folder's
; permissions could not be set (the station is not started), 740 not run as Administrator.

Unicode true
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel admin
; Releases: solid LZMA. /DNO_COMPRESSION=1 (tests only) stores the files as they are: seconds
; instead of minutes to build over the real 233 MiB payload, the same installer otherwise.
!ifdef NO_COMPRESSION
  SetCompress off
!else
  SetCompressor /SOLID lzma
!endif

!ifndef VERSION
  !error "Pass the version: makensis /DVERSION=x.y.z /DPAYLOAD=dir installer.nsi"
!endif
!ifndef PAYLOAD
  !error "Pass the payload dir (PyInstaller one-folder output): /DPAYLOAD=dir"
!endif
!ifndef OUTFILE
  !define OUTFILE "ektp-station-${VERSION}-setup.exe"
!endif

; One source for each: the app's own constants.
!searchparse /file "${__FILEDIR__}/app/paths.py" `APP_DIR_NAME = "` APP_DIR_NAME `"`
!searchparse /file "${__FILEDIR__}/app/single_instance.py" `MUTEX_NAME = r"` MUTEX_NAME `"`
; What `status --pending` answers for a data folder with no station database.
!searchparse /file "${__FILEDIR__}/app/commands/status.py" `NO_STATION = "` NO_STATION `"`

!define APP_NAME "e-KTP Station"
!define PUBLISHER "e-KTP Station project"
!define EXE "ektp-station.exe"
!define GUI_EXE "ektp-station-gui.exe"
!define UNINSTALLER "uninstall.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_DIR_NAME}"
!define SHORTCUT_DIR "$SMPROGRAMS\${APP_NAME}"
; The local group of the Windows accounts the station runs as: with SYSTEM and Administrators
; the only ones that may open the data folder (the station's wrapped signing key, its database).
!define STATION_GROUP "${APP_DIR_NAME}-users"

!if ! /FileExists "${PAYLOAD}/${EXE}"
  !error "${PAYLOAD}/${EXE} is missing: PAYLOAD must be the PyInstaller one-folder output"
!endif
!if ! /FileExists "${PAYLOAD}/${GUI_EXE}"
  !error "${PAYLOAD}/${GUI_EXE} is missing: PAYLOAD must be the PyInstaller one-folder output"
!endif

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "WordFunc.nsh"

Name "${APP_NAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP_DIR_NAME}"
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=1033 "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=1033 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=1033 "FileDescription" "${APP_NAME} installer"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "${PUBLISHER}"

Var DataDir      ; C:\ProgramData\<APP_DIR_NAME>, where the app keeps DB, keys, logs
Var Server       ; /SERVER=
Var Code         ; /CODE=
Var OldDir       ; install location of the version already installed, if any
Var OldVersion
Var Users        ; /USERS= (comma-separated Windows accounts put in STATION_GROUP)

!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

; Bahasa Indonesia first: it is the default when Windows speaks neither language.
!insertmacro MUI_LANGUAGE "Indonesian"
!insertmacro MUI_LANGUAGE "English"

LangString MsgRunning ${LANG_INDONESIAN} "${APP_NAME} sedang berjalan. Tutup aplikasi di semua akun Windows, lalu pilih Coba Lagi."
LangString MsgRunning ${LANG_ENGLISH} "${APP_NAME} is running. Close it in every Windows account, then choose Retry."
LangString MsgNeedAdmin ${LANG_INDONESIAN} "Jalankan sebagai Administrator: ${APP_NAME} dipasang untuk semua pengguna komputer ini."
LangString MsgNeedAdmin ${LANG_ENGLISH} "Run as Administrator: ${APP_NAME} is installed for every user of this computer."
LangString MsgSwitchPair ${LANG_INDONESIAN} "/SERVER= dan /CODE= harus diberikan bersama."
LangString MsgSwitchPair ${LANG_ENGLISH} "/SERVER= and /CODE= must be given together."
LangString MsgDowngrade ${LANG_INDONESIAN} "Versi $OldVersion yang lebih baru sudah terpasang. Versi ${VERSION} mungkin tidak dapat membuka basis data stasiun. Tetap pasang?"
LangString MsgDowngrade ${LANG_ENGLISH} "The newer version $OldVersion is installed. Version ${VERSION} may not open the station database. Install anyway?"
LangString MsgOldUninstall ${LANG_INDONESIAN} "Versi lama tidak dapat dihapus (kode $0). Instalasi dibatalkan; data stasiun tidak disentuh."
LangString MsgOldUninstall ${LANG_ENGLISH} "The old version could not be removed (code $0). Installation cancelled; station data was not touched."
LangString MsgDirIsData ${LANG_INDONESIAN} "Folder program tidak boleh berada di folder data stasiun ($DataDir)."
LangString MsgDirIsData ${LANG_ENGLISH} "The program folder must not be inside the station data folder ($DataDir)."
LangString MsgDirNotEmpty ${LANG_INDONESIAN} "Folder $INSTDIR berisi berkas lain. Pilih folder kosong."
LangString MsgDirNotEmpty ${LANG_ENGLISH} "The folder $INSTDIR holds other files. Choose an empty folder."
LangString MsgProvisionFailed ${LANG_INDONESIAN} "Program terpasang, tetapi pendaftaran stasiun ke $Server gagal (kode $0). Jalankan $\"ektp-station provision$\" lagi."
LangString MsgProvisionFailed ${LANG_ENGLISH} "The program is installed, but registering the station with $Server failed (code $0). Run $\"ektp-station provision$\" again."
LangString MsgPending ${LANG_INDONESIAN} "Masih ada $1 rekaman yang belum terkirim. Data stasiun tidak dihapus dan penghapusan dibatalkan. Kirim dulu (ektp-station sync) atau ekspor ke media lepas."
LangString MsgPending ${LANG_ENGLISH} "$1 records have not been sent yet. Station data was not removed and uninstall was cancelled. Send them first (ektp-station sync) or export them to removable media."
LangString MsgStatusFailed ${LANG_INDONESIAN} "Program stasiun tidak dapat memastikan apakah masih ada rekaman yang belum terkirim (kode $0): $1$\r$\nData stasiun tidak dihapus dan penghapusan dibatalkan. Jalankan $\"ektp-station doctor$\"."
LangString MsgStatusFailed ${LANG_ENGLISH} "The station program could not tell whether records still wait to be sent (code $0): $1$\r$\nStation data was not removed and uninstall was cancelled. Run $\"ektp-station doctor$\"."
LangString MsgStatusUnreadable ${LANG_INDONESIAN} "Jawaban program stasiun tidak dikenali ($\"$1$\"), jadi tidak dapat dipastikan bahwa semua rekaman sudah terkirim. Data stasiun tidak dihapus dan penghapusan dibatalkan."
LangString MsgStatusUnreadable ${LANG_ENGLISH} "The station program gave an answer the uninstaller does not understand ($\"$1$\"), so it cannot tell whether every record was sent. Station data was not removed and uninstall was cancelled."
LangString MsgNoStationData ${LANG_INDONESIAN} "Folder $DataDir tidak berisi data stasiun (belum pernah disiapkan): folder dihapus."
LangString MsgNoStationData ${LANG_ENGLISH} "$DataDir holds no station data (it was never set up): the folder is removed."
LangString MsgNothingPending ${LANG_INDONESIAN} "Semua rekaman sudah terkirim ke server: data stasiun dihapus."
LangString MsgNothingPending ${LANG_ENGLISH} "Every record has reached the server: station data is removed."
LangString MsgAclFailed ${LANG_INDONESIAN} "Program terpasang, tetapi hak akses folder data $DataDir tidak dapat diatur (kode $0). Jangan gunakan stasiun ini sebelum masalah ini diperbaiki; jalankan penginstal lagi."
LangString MsgAclFailed ${LANG_ENGLISH} "The program is installed, but the permissions of the data folder $DataDir could not be set (code $0). Do not use this station until this is fixed; run the installer again."
LangString SecRemoveDataName ${LANG_INDONESIAN} "Hapus data stasiun (basis data, kunci, log)"
LangString SecRemoveDataName ${LANG_ENGLISH} "Remove station data (database, keys, logs)"

; ---------------------------------------------------------------------------------------------
; Shared by installer and uninstaller.

!macro SHARED_FUNCTIONS un
  ; Refuse while the app runs: it holds the named mutex for its whole life (app/single_instance.py).
  Function ${un}RefuseWhileRunning
    Push $0
    Push $1
    StrCpy $1 "${MUTEX_NAME}"
    retry:
      ; SYNCHRONIZE access is enough to learn that the mutex exists.
      System::Call 'kernel32::OpenMutexW(i 0x00100000, i 0, w r1) p .r0'
      ${If} $0 P<> 0
        System::Call 'kernel32::CloseHandle(p r0)'
        MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "$(MsgRunning)" /SD IDCANCEL IDRETRY retry
        SetErrorLevel 2
        Quit
      ${EndIf}
    Pop $1
    Pop $0
  FunctionEnd

  ; Value of a command-line switch: Push params, Push "/NAME=" ; Call ; Pop value.
  ; Error flag set when the switch is absent. Unlike FileFunc's GetOptions a value may hold "/"
  ; (URLs); it ends at the first space, or at the closing quote when it starts with one.
  Function ${un}GetSwitch
    Exch $1
    Exch
    Exch $0
    Push $2
    Push $3
    Push $4
    Push $5
    ClearErrors
    StrCpy $0 " $0 "
    StrCpy $1 " $1"
    StrLen $2 $1
    StrCpy $3 0
    StrCpy $5 ""
    find:
      StrCpy $4 $0 $2 $3
      StrCmp $4 "" absent
      StrCmp $4 $1 found   ; StrCmp ignores case: /server= works too
      IntOp $3 $3 + 1
      Goto find
    found:
      IntOp $3 $3 + $2
      StrCpy $5 $0 "" $3
      StrCpy $2 " "
      StrCpy $4 $5 1
      StrCmp $4 '"' 0 scan
      StrCpy $5 $5 "" 1
      StrCpy $2 '"'
    scan:
      StrCpy $3 0
    next:
      StrCpy $4 $5 1 $3
      StrCmp $4 "" cut
      StrCmp $4 $2 cut
      IntOp $3 $3 + 1
      Goto next
    cut:
      StrCpy $5 $5 $3
      Goto done
    absent:
      SetErrors
    done:
    StrCpy $0 $5
    Pop $5
    Pop $4
    Pop $3
    Pop $2
    Pop $1
    Exch $0
  FunctionEnd

  Function ${un}InitCommon
    SetRegView 64
    SetShellVarContext all
    ; $APPDATA in the all-users context is CSIDL_COMMON_APPDATA (C:\ProgramData), the folder
    ; platformdirs.site_data_dir() uses: app/paths.py keeps station data there on Windows.
    StrCpy $DataDir "$APPDATA\${APP_DIR_NAME}"
    ; RequestExecutionLevel asks for elevation, but with UAC off a plain user gets no prompt.
    UserInfo::GetAccountType
    Pop $0
    ${If} $0 != "Admin"
      MessageBox MB_OK|MB_ICONSTOP "$(MsgNeedAdmin)" /SD IDOK
      SetErrorLevel 740  ; ERROR_ELEVATION_REQUIRED
      Quit
    ${EndIf}
    Call ${un}RefuseWhileRunning
  FunctionEnd
!macroend

!insertmacro SHARED_FUNCTIONS ""
!insertmacro SHARED_FUNCTIONS "un."

; ---------------------------------------------------------------------------------------------
; Installer

Function .onInit
  ; (An amd64 installer does not start on 32-bit Windows: no RunningX64 check needed.)
  Call InitCommon

  ${GetParameters} $R0
  Push $R0
  Push "/SERVER="
  Call GetSwitch
  Pop $Server
  Push $R0
  Push "/CODE="
  Call GetSwitch
  Pop $Code
  Push $R0
  Push "/USERS="
  Call GetSwitch
  Pop $Users
  ${If} $Server == ""
  ${AndIf} $Code != ""
    StrCpy $R1 "bad"
  ${ElseIf} $Server != ""
  ${AndIf} $Code == ""
    StrCpy $R1 "bad"
  ${Else}
    StrCpy $R1 ""
  ${EndIf}
  ${If} $R1 == "bad"
    MessageBox MB_OK|MB_ICONSTOP "$(MsgSwitchPair)" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}

  ReadRegStr $OldDir HKLM "${UNINST_KEY}" "InstallLocation"
  ReadRegStr $OldVersion HKLM "${UNINST_KEY}" "DisplayVersion"
  ${If} $OldDir != ""
    ; Upgrade in place, unless /D= named another folder (then the old one is uninstalled).
    ${If} $INSTDIR == "$PROGRAMFILES64\${APP_DIR_NAME}"
      StrCpy $INSTDIR $OldDir
    ${EndIf}
    ${VersionCompare} $OldVersion "${VERSION}" $R2
    ${If} $R2 == 1
      MessageBox MB_YESNO|MB_ICONEXCLAMATION "$(MsgDowngrade)" /SD IDNO IDYES downgrade_ok
      SetErrorLevel 2
      Quit
      downgrade_ok:
    ${EndIf}
  ${EndIf}
FunctionEnd

Function .onVerifyInstDir
  Call InstDirIsData
  Pop $0
  ${If} $0 == 1
    Abort
  ${EndIf}
FunctionEnd

; Pushes 1 when $INSTDIR is the data dir or inside it: the uninstaller deletes $INSTDIR.
Function InstDirIsData
  Push $0
  Push $1
  StrLen $0 $DataDir
  StrCpy $1 $INSTDIR $0
  ${If} $1 == $DataDir
    StrCpy $0 1
  ${Else}
    StrCpy $0 0
  ${EndIf}
  Pop $1
  Exch $0
FunctionEnd

; Pushes 1 when $INSTDIR holds files that are not ours (the uninstaller deletes the folder).
Function InstDirHasForeignFiles
  Push $0
  Push $1
  Push $2
  StrCpy $2 0
  ${If} ${FileExists} "$INSTDIR\${EXE}"
  ${OrIf} ${FileExists} "$INSTDIR\${UNINSTALLER}"
    ; ours: an earlier install, or what an uninstall run with _?= leaves behind
  ${Else}
    FindFirst $0 $1 "$INSTDIR\*"
    ${DoWhile} $1 != ""
      ${If} $1 != "."
      ${AndIf} $1 != ".."
        StrCpy $2 1
        ${Break}
      ${EndIf}
      FindNext $0 $1
    ${Loop}
    FindClose $0
  ${EndIf}
  StrCpy $0 $2
  Pop $2
  Pop $1
  Exch $0
FunctionEnd

; Upgrade/reinstall: run the installed version's uninstaller silently, from a copy so that
; ExecWait really waits (_?= keeps it from re-launching itself). It never removes station data
; (no /REMOVEDATA).
Function RemovePreviousInstall
  ${If} $OldDir == ""
    Return
  ${EndIf}
  ${IfNot} ${FileExists} "$OldDir\${UNINSTALLER}"
    Return
  ${EndIf}
  DetailPrint "Uninstalling $OldVersion from $OldDir"
  InitPluginsDir
  CopyFiles /SILENT "$OldDir\${UNINSTALLER}" "$PLUGINSDIR\old-${UNINSTALLER}"
  ClearErrors
  ExecWait '"$PLUGINSDIR\old-${UNINSTALLER}" /S _?=$OldDir' $0
  ${If} ${Errors}
  ${OrIf} $0 != 0
    MessageBox MB_OK|MB_ICONSTOP "$(MsgOldUninstall)" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  Delete "$OldDir\${UNINSTALLER}"
  RMDir "$OldDir"
  Delete "$PLUGINSDIR\old-${UNINSTALLER}"
FunctionEnd

Section "-Program"
  Call InstDirIsData
  Pop $0
  ${If} $0 == 1
    MessageBox MB_OK|MB_ICONSTOP "$(MsgDirIsData)" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}

  Call RemovePreviousInstall

  Call InstDirHasForeignFiles
  Pop $0
  ${If} $0 == 1
    MessageBox MB_OK|MB_ICONSTOP "$(MsgDirNotEmpty)" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}

  SetOutPath "$INSTDIR"
  File /r "${PAYLOAD}/*"
  WriteUninstaller "$INSTDIR\${UNINSTALLER}"

  ; Station data: created here (the app would too); an upgrade leaves what is inside untouched.
  CreateDirectory "$DataDir"
  Call ProtectDataDir
  ${If} $0 != 0
    MessageBox MB_OK|MB_ICONSTOP "$(MsgAclFailed)" /SD IDOK
    SetErrorLevel 4
  ${EndIf}

  CreateDirectory "${SHORTCUT_DIR}"
  CreateShortcut "${SHORTCUT_DIR}\${APP_NAME}.lnk" "$INSTDIR\${GUI_EXE}" "" "$INSTDIR\${GUI_EXE}" 0
  ; doctor prints a report: run it in a console that stays open.
  CreateShortcut "${SHORTCUT_DIR}\${APP_NAME} doctor.lnk" "$SYSDIR\cmd.exe" \
    '/k ""$INSTDIR\${EXE}" doctor"' "$INSTDIR\${EXE}" 0

  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\${UNINSTALLER}"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\${UNINSTALLER}" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" "$0"

  ${If} $Server != ""
    DetailPrint "Provisioning against $Server"
    nsExec::ExecToLog '"$INSTDIR\${EXE}" --home "$DataDir" provision --server "$Server" --code "$Code"'
    Pop $0
    ${If} $0 != 0
      MessageBox MB_OK|MB_ICONEXCLAMATION "$(MsgProvisionFailed)" /SD IDOK
      SetErrorLevel 3
    ${EndIf}
  ${EndIf}
SectionEnd

; The data folder belongs to SYSTEM, Administrators and STATION_GROUP (the accounts given with
; /USERS=, or added later with `net localgroup`), nobody else: not inherited from ProgramData
; (which lets every user read and create), and without the Users grant of earlier versions.
; Files inside inherit it. $0: 0, or the failing step's exit code.
Function ProtectDataDir
  ; The group may exist already (an upgrade): its exit code says nothing then.
  nsExec::ExecToLog '"$SYSDIR\net.exe" localgroup "${STATION_GROUP}" /add /comment:"${APP_NAME}: may use the station data folder"'
  Pop $0
  ; "a,b" -> a, b (a trailing comma makes one name a list too; at most 64 names).
  StrCpy $R1 1
  ${Do}
    ${WordFind} "$Users," "," "E+$R1" $R2
    ${If} ${Errors}
    ${OrIf} $R1 > 64
      ${ExitDo}
    ${EndIf}
    ${If} $R2 != ""
      nsExec::ExecToLog '"$SYSDIR\net.exe" localgroup "${STATION_GROUP}" "$R2" /add'
      Pop $0
      DetailPrint "${STATION_GROUP} += $R2: $0"
    ${EndIf}
    IntOp $R1 $R1 + 1
  ${Loop}
  ; SYSTEM (S-1-5-18) and Administrators (S-1-5-32-544) full control, the group modify.
  nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$DataDir" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F "${STATION_GROUP}:(OI)(CI)M"'
  Pop $0
  ${If} $0 != 0
    Return
  ${EndIf}
  ; Earlier versions granted Users (S-1-5-32-545) modify; Authenticated Users (S-1-5-11) too.
  nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$DataDir" /remove:g *S-1-5-32-545 *S-1-5-11'
  Pop $0
  ${If} $0 != 0
    Return
  ${EndIf}
  ; What is inside inherits only the folder's ACL (drops what the Users grant put there).
  ; (No files yet, on a first install, is an error to icacls: its code only goes to the log.)
  nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$DataDir\*" /reset /T /C /Q'
  Pop $1
  DetailPrint "icacls reset: $1"
FunctionEnd

; ---------------------------------------------------------------------------------------------
; Uninstaller

Section "-un.Program"
  Call un.RefuseWhilePending

  RMDir /r "${SHORTCUT_DIR}"
  ; The installer refused folders holding foreign files and the data dir, so the folder that
  ; holds our main program is ours to delete.
  StrLen $0 $DataDir
  StrCpy $1 $INSTDIR $0
  ${If} ${FileExists} "$INSTDIR\${EXE}"
  ${AndIf} $1 != $DataDir
    RMDir /r "$INSTDIR"
  ${Else}
    Delete "$INSTDIR\${UNINSTALLER}"
    RMDir "$INSTDIR"
  ${EndIf}
  DeleteRegKey HKLM "${UNINST_KEY}"
SectionEnd

; Opt-in: the default keeps every record, key and log.
Section /o "un.$(SecRemoveDataName)" SecRemoveData
  RMDir /r "$DataDir"
SectionEnd

Function un.onInit
  Call un.InitCommon
  ${GetParameters} $R0
  Push $R0
  Push "/REMOVEDATA"
  Call un.GetSwitch
  Pop $R1
  ${IfNot} ${Errors}
    SectionSetFlags ${SecRemoveData} ${SF_SELECTED}
  ${EndIf}
FunctionEnd

; Ask the app how many records still wait for the server and abort the whole uninstall unless
; it answers 0: without the program nothing can send them. `status --pending` prints one line,
; a number or NO_STATION (the data folder holds no station database: never set up, nothing to
; lose), and exits 0; anything else (an exit code, no answer, an answer that is not one of
; those) counts as "records may wait".
Function un.RefuseWhilePending
  ${IfNot} ${SectionIsSelected} ${SecRemoveData}
    Return
  ${EndIf}
  ${IfNot} ${FileExists} "$DataDir\*"
    Return
  ${EndIf}
  nsExec::ExecToStack /TIMEOUT=120000 '"$INSTDIR\${EXE}" --home "$DataDir" status --pending'
  Pop $0 ; exit code, or "error" / "timeout"
  Pop $1 ; the output
  ${If} $0 != 0
    MessageBox MB_OK|MB_ICONSTOP "$(MsgStatusFailed)" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  Push $1
  Call un.LastLine
  Pop $1
  StrCmp $1 "${NO_STATION}" 0 station_data
    DetailPrint "$(MsgNoStationData)"
    Return
  station_data:
  Push $1
  Call un.IsNumber
  Pop $2
  ${If} $2 == ""
    MessageBox MB_OK|MB_ICONSTOP "$(MsgStatusUnreadable)" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  ${If} $1 <> 0
    MessageBox MB_OK|MB_ICONSTOP "$(MsgPending)" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  DetailPrint "$(MsgNothingPending)"
FunctionEnd

; Push text ; Call ; Pop its last non-empty line, without line ends or trailing spaces (the
; answer is the program's last line: a stray warning before it does not hide it).
Function un.LastLine
  Exch $0
  Push $1
  Push $2
  trim:
    StrCpy $1 $0 1 -1
    ${If} $1 == "$\r"
    ${OrIf} $1 == "$\n"
    ${OrIf} $1 == " "
      StrCpy $0 $0 -1
      Goto trim
    ${EndIf}
  StrLen $2 $0
  find:
    ${If} $2 <= 0
      Goto done
    ${EndIf}
    IntOp $2 $2 - 1
    StrCpy $1 $0 1 $2
    StrCmp $1 "$\n" 0 find
    IntOp $2 $2 + 1
    StrCpy $0 $0 "" $2
  done:
  Pop $2
  Pop $1
  Exch $0
FunctionEnd

; Push text ; Call ; Pop it back when it is a count written as the program writes one (decimal,
; no sign, no leading zero, 1-9 digits), else "". IntOp reads "12" as 12 and "abc", "012",
; "0x1A", "1e3" or "12 records" as something else, so comparing the text with its IntOp value
; rejects all of those.
Function un.IsNumber
  Exch $0
  Push $1
  StrLen $1 $0
  ${If} $1 < 1
  ${OrIf} $1 > 9
    StrCpy $0 ""
  ${Else}
    StrCpy $1 $0 1
    ${If} $1 == "-"
      StrCpy $0 ""
    ${Else}
      IntOp $1 $0 + 0
      StrCmp $1 $0 +2
      StrCpy $0 ""
    ${EndIf}
  ${EndIf}
  Pop $1
  Exch $0
FunctionEnd
