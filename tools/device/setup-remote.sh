#!/usr/bin/env bash
# Runs ON the device machine, from the repo root, at the start of every `run` call. Source it so the
# exports (PATH, VK_DRIVER_FILES) stay in the calling shell:
#
#   . tools/device/setup-remote.sh            # then: node .device-carry/jobs/x.mjs  (or use tools/device/job.sh)
#
# Unpacks .device-carry/node.tar.xz to $DEVICE_ROOT/node/bin/node and ort.tar.xz (+ mods.tar.xz) into
# $DEVICE_ROOT/job/node_modules (DEVICE_ROOT defaults to /tmp). Idempotent: a warm machine keeps /tmp between
# back-to-back calls, so an archive whose checksum matches the last unpack is skipped. If `.gl/` was carried and
# no Vulkan loader is installed, unpacks its .debs into / (the device README's recipe) for the webgpu EP.
# Set DEVICE_QUIET=1 to skip the report (nvidia-smi, node version, ORT backends).
_dev_root=${DEVICE_ROOT:-/tmp}
_dev_carry=${DEVICE_CARRY:-$PWD/.device-carry}
# The CUDA provider (tools/device/pack-cuda.ts, ~36 MiB) does not fit one call beside node + ORT, so it comes in a
# call of its own: it is kept in $DEVICE_ROOT/cuda (which survives while the machine is warm) and unpacked beside
# libonnxruntime.so.1 whenever ORT is there.
if [[ -f $PWD/.device-cuda/cuda.tar.xz ]]; then
  mkdir -p "$_dev_root/cuda"
  cp "$PWD/.device-cuda/cuda.tar.xz" "$_dev_root/cuda/cuda.tar.xz.tmp" && mv "$_dev_root/cuda/cuda.tar.xz.tmp" "$_dev_root/cuda/cuda.tar.xz"
  echo "setup-remote: kept the CUDA provider archive in $_dev_root/cuda ($(cat "$PWD/.device-cuda/cuda.arch" 2>/dev/null))" >&2
  if [[ ! -d $_dev_carry ]]; then return 0 2>/dev/null || exit 0; fi
fi
if [[ ! -d $_dev_carry ]]; then
  echo "setup-remote: $_dev_carry missing; run tools/device/pack.sh here and name .device-carry in carry" >&2
  return 1 2>/dev/null || exit 1
fi

# Unpack archive $1 into dir $2 unless the same archive was unpacked there already.
_dev_unpack() {
  local archive=$1 dest=$2 stamp sum
  [[ -f $archive ]] || return 0
  stamp="$dest/.stamp.$(basename "$archive")"
  sum=$(cksum <"$archive")
  if [[ -f $stamp && "$(cat "$stamp")" == "$sum" ]]; then return 0; fi
  mkdir -p "$dest"
  xz -dc -T0 "$archive" | tar -xf - -C "$dest"
  echo "$sum" >"$stamp"
  echo "setup-remote: unpacked $(basename "$archive") into $dest" >&2
}

mkdir -p "$_dev_root/node/bin" "$_dev_root/job/node_modules"
_dev_unpack "$_dev_carry/node.tar.xz" "$_dev_root/node/bin"
_dev_unpack "$_dev_carry/ort.tar.xz" "$_dev_root/job/node_modules"
_dev_unpack "$_dev_carry/mods.tar.xz" "$_dev_root/job/node_modules"
_dev_ort_lib=$_dev_root/job/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
if [[ -f $_dev_root/cuda/cuda.tar.xz && -f $_dev_ort_lib/libonnxruntime.so.1 ]]; then _dev_unpack "$_dev_root/cuda/cuda.tar.xz" "$_dev_ort_lib"; fi
export PATH="$_dev_root/node/bin:$PATH"

# Vulkan loader + glvnd for onnxruntime's webgpu EP (Dawn's Vulkan backend dlopens libvulkan.so.1, whose NVIDIA
# ICD libGLX_nvidia.so.0 needs glvnd's libGLdispatch). .gl/ holds the debs of the device README's recipe.
# On the device (driver mounted at /usr/local/nvidia) follow that README: unpack into / and ldconfig. Anywhere else
# (a local dry run) never touch /: unpack into $DEVICE_ROOT/gl and point LD_LIBRARY_PATH at it (dlopen honours it).
if [[ -d .gl ]]; then
  if [[ -d /usr/local/nvidia && $(id -u) == 0 ]]; then
    if [[ ! -f $_dev_root/.gl-installed ]] && ! ldconfig -p | grep -q 'libvulkan.so.1'; then
      for f in .gl/*.deb; do dpkg -x "$f" /; done
      ldconfig
      echo "setup-remote: installed Vulkan loader + glvnd from .gl/ into /" >&2
    fi
    touch "$_dev_root/.gl-installed"
  else
    [[ -e $_dev_root/gl/usr/lib/x86_64-linux-gnu/libvulkan.so.1 ]] || for f in .gl/*.deb; do dpkg -x "$f" "$_dev_root/gl"; done
    export LD_LIBRARY_PATH="$_dev_root/gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "setup-remote: Vulkan loader from .gl/ in $_dev_root/gl (LD_LIBRARY_PATH)" >&2
  fi
fi
# Which NVIDIA Vulkan ICD: the driver's own (GLX library) or, with DEVICE_VK_ICD=egl, a copy naming the EGL library,
# which NVIDIA documents for headless use.
_dev_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [[ -f $_dev_icd ]]; then
  if [[ ${DEVICE_VK_ICD:-} == egl ]]; then
    sed 's/libGLX_nvidia\.so\.0/libEGL_nvidia.so.0/' "$_dev_icd" >"$_dev_root/nvidia_egl_icd.json"
    _dev_icd=$_dev_root/nvidia_egl_icd.json
  fi
  export VK_DRIVER_FILES=$_dev_icd
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi

if [[ -z ${DEVICE_QUIET:-} ]]; then
  command -v nvidia-smi >/dev/null && nvidia-smi -L
  echo "node $("$_dev_root/node/bin/node" -v) | nproc $(nproc) | libvulkan in ldconfig: $(ldconfig -p | grep -c 'libvulkan.so.1') | VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
  (cd "$_dev_root/job" && "$_dev_root/node/bin/node" -e \
    "const o=require('onnxruntime-node');console.log('ort', o.env.versions.node ?? '', JSON.stringify(o.listSupportedBackends()))") 2>&1 || true
fi
unset -f _dev_unpack
