#!/usr/bin/env bash
# Debian packages agentgym needs outside Python: EGL/OSMesa for headless MuJoCo
# rendering, chromium and chromium-driver for the web tasks. Installed only when
# missing and only when root; otherwise say what is missing and go on.
set -u
need=()
ldconfig -p 2>/dev/null | grep -q 'libEGL.so.1' || need+=(libegl1 libgl1 libgles2)
ldconfig -p 2>/dev/null | grep -q 'libOSMesa.so' || need+=(libosmesa6)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || echo "warning: apt-get could not install ${need[*]}; rendering or browser tests may be skipped" >&2
else
  echo "note: missing Debian packages (${need[*]}); install them as root for rendering and browser tasks" >&2
fi
exit 0
