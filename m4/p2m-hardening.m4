dnl SPDX-License-Identifier: Apache-2.0
dnl p2m-hardening.m4 - compiler and linker flags that harden the binaries, each
dnl added only when the toolchain accepts it (the checks of autoconf-archive's
dnl AX_CHECK_COMPILE_FLAG / AX_CHECK_LINK_FLAG, written out here).

dnl P2M_CHECK_CFLAG(FLAG, VAR): append FLAG to VAR when $CC compiles with it
dnl (warnings as errors, so a flag gcc only warns about is not taken).
AC_DEFUN([P2M_CHECK_CFLAG], [
  AS_VAR_PUSHDEF([p2m_cv], [p2m_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [p2m_cv], [
    p2m_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[#include <string.h>]], [[char b[8]; return (int) strlen(strcpy(b, "x"));]])],
      [AS_VAR_SET([p2m_cv], [yes])], [AS_VAR_SET([p2m_cv], [no])])
    CFLAGS=$p2m_save_CFLAGS])
  AS_VAR_IF([p2m_cv], [yes], [$2="$$2 $1"])
  AS_VAR_POPDEF([p2m_cv])])

dnl P2M_CHECK_LDFLAG(FLAG, VAR): append FLAG to VAR when $CC links with it.
AC_DEFUN([P2M_CHECK_LDFLAG], [
  AS_VAR_PUSHDEF([p2m_cv], [p2m_cv_ldflag_$1])
  AC_CACHE_CHECK([whether $CC links with $1], [p2m_cv], [
    p2m_save_LDFLAGS=$LDFLAGS
    LDFLAGS="$LDFLAGS -Werror $1"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [[return 0;]])],
      [AS_VAR_SET([p2m_cv], [yes])], [AS_VAR_SET([p2m_cv], [no])])
    LDFLAGS=$p2m_save_LDFLAGS])
  AS_VAR_IF([p2m_cv], [yes], [$2="$$2 $1"])
  AS_VAR_POPDEF([p2m_cv])])

dnl P2M_HARDENING: HARDEN_CPPFLAGS, HARDEN_CFLAGS, HARDEN_LDFLAGS (every
dnl object and link, shared modules included) and PIE_CFLAGS/PIE_LDFLAGS
dnl (programs only: -pie cannot link the PAM module).  --disable-hardening
dnl leaves them empty.  A distribution's own flags (dpkg-buildflags) come in
dnl CFLAGS/LDFLAGS and stay; ours only add what is missing.
AC_DEFUN([P2M_HARDENING], [
  AC_ARG_ENABLE([hardening],
    [AS_HELP_STRING([--disable-hardening], [do not add stack protector, _FORTIFY_SOURCE, RELRO/now and PIE flags])],
    [], [enable_hardening=yes])
  HARDEN_CPPFLAGS=""
  HARDEN_CFLAGS=""
  HARDEN_LDFLAGS=""
  PIE_CFLAGS=""
  PIE_LDFLAGS=""
  AS_IF([test "x$enable_hardening" != xno], [
    P2M_CHECK_CFLAG([-fstack-protector-strong], [HARDEN_CFLAGS])
    P2M_CHECK_CFLAG([-fstack-clash-protection], [HARDEN_CFLAGS])
    dnl control-flow protection (Intel CET on x86; gcc refuses it elsewhere)
    P2M_CHECK_CFLAG([-fcf-protection], [HARDEN_CFLAGS])
    dnl _FORTIFY_SOURCE needs optimisation (glibc warns and does nothing
    dnl without it) and fights ASan's interceptors: only with -O, without
    dnl sanitizers, and not twice when CPPFLAGS/CFLAGS already set it.
    AS_CASE(["$CFLAGS"], [*-O0*|'' ], [p2m_optimised=no], [*-O*], [p2m_optimised=yes], [p2m_optimised=no])
    AS_CASE(["$CPPFLAGS $CFLAGS"], [*_FORTIFY_SOURCE*], [p2m_optimised=already])
    AS_IF([test "x$p2m_optimised" = xyes && test "x$enable_sanitizers" != xyes && test "x$enable_fuzzers" != xyes],
      [HARDEN_CPPFLAGS="-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2"])
    P2M_CHECK_LDFLAG([-Wl,-z,relro], [HARDEN_LDFLAGS])
    P2M_CHECK_LDFLAG([-Wl,-z,now], [HARDEN_LDFLAGS])
    P2M_CHECK_LDFLAG([-Wl,-z,noexecstack], [HARDEN_LDFLAGS])
    dnl PIE: nothing to add when the compiler builds PIE already (Debian's gcc does).
    AC_CACHE_CHECK([whether $CC builds position-independent executables by default], [p2m_cv_default_pie],
      [AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[#if !defined(__PIE__) && !defined(__pie__)
#error not PIE
#endif]], [])], [p2m_cv_default_pie=yes], [p2m_cv_default_pie=no])])
    AS_IF([test "x$p2m_cv_default_pie" = xno], [
      P2M_CHECK_CFLAG([-fPIE], [PIE_CFLAGS])
      AS_IF([test -n "$PIE_CFLAGS"], [P2M_CHECK_LDFLAG([-pie], [PIE_LDFLAGS])])
      AS_IF([test -z "$PIE_LDFLAGS"], [PIE_CFLAGS=""])])
  ])
  AC_SUBST([HARDEN_CPPFLAGS])
  AC_SUBST([HARDEN_CFLAGS])
  AC_SUBST([HARDEN_LDFLAGS])
  AC_SUBST([PIE_CFLAGS])
  AC_SUBST([PIE_LDFLAGS])
])
