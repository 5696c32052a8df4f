# tests/vm-lib.sh — what the VM tests share; source it instead of lib.sh:
#
#     VM_GUESTS="fast cloud"; . "$(dirname "$0")/vm-lib.sh"
#
# Before lib.sh moves the test into its private namespaces (which have no
# network), the guests named in VM_GUESTS are built in the host's namespace
# when they are not cached yet: that needs Debian's mirrors.
#
#   vm_libvirtd NS     a private libvirtd for this test, in network namespace
#                      NS (its state, runtime, cache, log and configuration
#                      directories are tmpfs mounts of this test's mount
#                      namespace, so parallel test files never meet); killed
#                      by its pid at exit
#   vm_fast_guest      Debian's kernel (uncompressed vmlinux) and a busybox
#                      initramfs; sets FAST_KERNEL FAST_INITRD FAST_BASE
#   vm_cloud_guest     a Debian qcow2 with cloud-init built by mmdebstrap,
#                      its kernel and initrd; sets CLOUD_BASE CLOUD_KERNEL
#                      CLOUD_INITRD
#
# The guests are built from Debian's packages and cached in $VM_CACHE
# (/var/cache/cyris-test) under a lock; a missing cache is rebuilt.

VM_CACHE=${CYRIS_TEST_CACHE:-/var/cache/cyris-test}
VM_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Serialise builds of the cached guests between parallel test files.
_vm_locked() { # _vm_locked NAME CMD...: CMD may be a shell function
	mkdir -p "$VM_CACHE" || return 1
	( flock 9 && "${@:2}" ) 9> "$VM_CACHE/.$1.lock"
}

# --- the fast guest ----------------------------------------------------------

_vm_kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# Build $1 (a directory): vmlinux, initrd.img, base.raw.
_vm_build_fast() {
	local dir=$1 pkg t off m f
	[ -f "$dir/ok" ] && return 0
	pkg=$(_vm_kernel_pkg)
	[ -n "$pkg" ] || { apt-get update -qq >/dev/null 2>&1; pkg=$(_vm_kernel_pkg); }
	[ -n "$pkg" ] || { echo "no linux-image-amd64 in the package lists" >&2; return 1; }
	t=$(mktemp -d "$VM_CACHE/.fast.XXXXXX") || return 1
	( cd "$t" && apt-get download "$pkg" ) >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1; ( cd "$t" && apt-get download "$pkg" ) >/dev/null 2>&1; } ||
		{ echo "apt-get download $pkg failed" >&2; rm -rf "$t"; return 1; }
	dpkg-deb -x "$t"/*.deb "$t/x" || { rm -rf "$t"; return 1; }
	# vmlinuz is a bzImage with an xz payload; TCG boots the ELF inside
	# (PVH entry) much faster than it runs the decompressor
	f=$(ls "$t"/x/boot/vmlinuz-*)
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$f" | head -1 | cut -d: -f1)
	tail -c +$((off + 1)) "$f" | xz -dc 2>/dev/null > "$t/vmlinux"
	[ -s "$t/vmlinux" ] || { echo "no vmlinux in $f" >&2; rm -rf "$t"; return 1; }
	mkdir -p "$t/root/bin" "$t/root/lib/modules" "$t/root/proc" "$t/root/sys" \
		"$t/root/dev" "$t/root/etc/acpi/PWRF" "$t/root/tmp" "$t/root/run"
	cp /bin/busybox "$t/root/bin/busybox"
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
		failover net_failover virtio_net button evdev; do
		f=$(find "$t/x/lib/modules" -name "$m.ko" | head -1)
		[ -n "$f" ] && cp "$f" "$t/root/lib/modules/"
	done
	cp "$VM_TESTS_DIR/guest/init" "$t/root/init"
	cp "$VM_TESTS_DIR/guest/udhcpc.sh" "$t/root/etc/udhcpc.sh"
	cp "$VM_TESTS_DIR/guest/power" "$t/root/etc/acpi/PWRF/00000080"
	chmod 755 "$t/root/init" "$t/root/etc/udhcpc.sh" "$t/root/etc/acpi/PWRF/00000080"
	( cd "$t/root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 ) > "$t/initrd.img"
	truncate -s 64M "$t/base.raw"
	mkdir -p "$dir" && mv "$t/vmlinux" "$t/initrd.img" "$t/base.raw" "$dir/" &&
		echo "$pkg" > "$dir/ok"
	rm -rf "$t"
	[ -f "$dir/ok" ]
}

_vm_fast_dir() {
	echo "$VM_CACHE/fast-$(cat "$VM_TESTS_DIR"/guest/init "$VM_TESTS_DIR"/guest/udhcpc.sh \
		"$VM_TESTS_DIR"/guest/power | md5sum | cut -c1-8)"
}

# First pass (host namespace): build the fast guest when it is not cached.
vm_build_fast() {
	local dir t0=$SECONDS
	dir=$(_vm_fast_dir)
	[ -f "$dir/ok" ] && return 0
	for p in apt-get dpkg-deb xz cpio gzip busybox; do
		command -v "$p" >/dev/null 2>&1 || return 0   # the test skips
	done
	_vm_locked fast _vm_build_fast "$dir" || return 0
	echo "# fast guest built in $((SECONDS - t0)) s ($(cat "$dir/ok"))"
	# older builds (of another init) are of no use any more
	for old in "$VM_CACHE"/fast-*; do
		[ "$old" = "$dir" ] || rm -rf "$old"
	done
}

# --- the cloud-init guest -----------------------------------------------------

CLOUD_PKGS=systemd-sysv,udev,dbus,linux-image-cloud-amd64,initramfs-tools,cloud-init,openssh-server,ifupdown,netbase,iproute2,qemu-guest-agent

_vm_cloud_dir() {
	echo "$VM_CACHE/cloud-$(echo "$CLOUD_PKGS" | cat - "$VM_TESTS_DIR/guest/cloud.cfg" | md5sum | cut -c1-8)"
}

# The image's last touches, run by mmdebstrap with the root directory as $1.
_vm_cloud_customize() {
	local r=$1
	cp "$VM_TESTS_DIR/guest/cloud.cfg" "$r/etc/cloud/cloud.cfg.d/90-cyris-test.cfg"
	echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" > "$r/etc/fstab"
	echo "debian" > "$r/etc/hostname"
	# the seed's CD-ROM and the disk are there before cloud-init looks
	printf '%s\n' virtio_pci virtio_blk virtio_scsi sr_mod iso9660 virtio_net >> "$r/etc/initramfs-tools/modules"
	chroot "$r" update-initramfs -u -k all >/dev/null 2>&1
	# nothing of the image's own: cloud-init writes host keys and config
	rm -f "$r"/etc/ssh/ssh_host_*
	chroot "$r" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
		e2scrub_reap.service fstrim.timer >/dev/null 2>&1
	return 0
}

# Build $1: vmlinuz, initrd.img, base.qcow2 (an ext4 root filesystem made
# from mmdebstrap's directory, no partition table: the kernel boots directly).
_vm_build_cloud() {
	local dir=$1 t src=() off f
	[ -f "$dir/ok" ] && return 0
	t=$(mktemp -d "$VM_CACHE/.cloud.XXXXXX") || return 1
	[ -f /etc/apt/sources.list.d/debian.sources ] && src=(/etc/apt/sources.list.d/debian.sources)
	if ! mmdebstrap --quiet --variant=minbase --include="$CLOUD_PKGS" \
		--customize-hook="$(declare -f _vm_cloud_customize); VM_TESTS_DIR='$VM_TESTS_DIR' _vm_cloud_customize \"\$1\"" \
		bookworm "$t/root" "${src[@]}" > "$t/log" 2>&1; then
		echo "# mmdebstrap failed:"; tail -5 "$t/log" | sed 's/^/#   /'
		rm -rf "$t"
		return 1
	fi
	# the cloud kernel is LZ4-compressed: it decompresses itself fast
	# enough under TCG, so it boots as it is (direct kernel boot)
	f=$(ls "$t"/root/boot/vmlinuz-* | head -1)
	cp "$f" "$t/vmlinuz"
	cp "$(ls "$t"/root/boot/initrd.img-* | head -1)" "$t/initrd.img"
	rm -rf "$t"/root/boot/vmlinuz-* "$t"/root/boot/initrd.img-*
	if ! [ -s "$t/vmlinuz" ] || ! mkfs.ext4 -q -L root -d "$t/root" "$t/root.img" 2G >/dev/null 2>&1 ||
		! qemu-img convert -O qcow2 "$t/root.img" "$t/base.qcow2"; then
		rm -rf "$t"
		return 1
	fi
	mkdir -p "$dir" && mv "$t/vmlinuz" "$t/initrd.img" "$t/base.qcow2" "$dir/" &&
		basename "$f" > "$dir/ok"
	rm -rf "$t"
	[ -f "$dir/ok" ]
}

# First pass (host namespace): build the cloud-init guest when not cached.
vm_build_cloud() {
	local dir t0=$SECONDS old
	dir=$(_vm_cloud_dir)
	[ -f "$dir/ok" ] && return 0
	for p in mmdebstrap mkfs.ext4 qemu-img xz; do
		command -v "$p" >/dev/null 2>&1 || return 0   # the test skips
	done
	_vm_locked cloud _vm_build_cloud "$dir" || return 0
	echo "# cloud-init guest built in $((SECONDS - t0)) s ($(cat "$dir/ok"))"
	for old in "$VM_CACHE"/cloud-*; do
		[ "$old" = "$dir" ] || rm -rf "$old"
	done
}

if [ -z "${CYRIS_IN_NS:-}" ] && [ "$(id -u)" = 0 ]; then
	for _g in ${VM_GUESTS:-}; do
		case $_g in
		fast) vm_build_fast ;;
		cloud) vm_build_cloud ;;
		esac
	done
	unset _g
fi
. "$VM_TESTS_DIR/lib.sh"

# Second pass (in the test's namespaces): the cached fast guest.
vm_fast_guest() {
	local dir
	dir=$(_vm_fast_dir)
	[ -f "$dir/ok" ] || skip_all "the fast guest could not be built (Debian's kernel package, busybox-static)"
	FAST_KERNEL=$dir/vmlinux
	FAST_INITRD=$dir/initrd.img
	FAST_BASE=$dir/base.raw
}

# Second pass: the cached cloud-init guest.
vm_cloud_guest() {
	local dir
	dir=$(_vm_cloud_dir)
	[ -f "$dir/ok" ] || skip_all "the cloud-init guest could not be built (mmdebstrap, Debian's mirror)"
	CLOUD_KERNEL=$dir/vmlinuz
	CLOUD_INITRD=$dir/initrd.img
	CLOUD_BASE=$dir/base.qcow2
}

VM_TMP=$(mktemp -d /tmp/cyris-vm-test.XXXXXX)
export CYRIS_VIRT_TYPE=qemu          # /dev/kvm here cannot run a stock guest
export CYRIS_LIBVIRT_URI=qemu:///system
export CYRIS_IMAGE_DIR=/var/lib/cyris/images
export CYRIS_STORAGE_POOL=cyris
# no configuration file of the machine leaks into the tests
export CYRIS_CONFIG=$VM_TMP/cyris.conf
: > "$CYRIS_CONFIG"

_vm_libvirtd_pid=
_vm_cleanup() {
	local i
	if [ -n "$_vm_libvirtd_pid" ]; then
		# guests first: QEMU processes are children of nobody once
		# libvirtd is gone, so stop them through libvirt while it runs
		for d in $(virsh -q list --name 2>/dev/null); do
			virsh -q destroy "$d" >/dev/null 2>&1
		done
		kill "$_vm_libvirtd_pid" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$_vm_libvirtd_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$_vm_libvirtd_pid" 2>/dev/null
	fi
	# what libvirtd started in this test (QEMU, dnsmasq) and left behind
	for p in $(cat /run/libvirt/qemu/*.pid /run/libvirt/network/*.pid 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	_cleanup
	rm -rf "$VM_TMP"
}
trap _vm_cleanup EXIT

# Private copies of /etc/passwd and /etc/group with the libvirt-qemu account
# the QEMU driver looks up at start-up (qemu.conf runs guests as root anyway).
_vm_accounts() {
	cp /etc/passwd "$VM_TMP/passwd"
	cp /etc/group "$VM_TMP/group"
	getent group libvirt-qemu >/dev/null || echo "libvirt-qemu:x:64055:" >> "$VM_TMP/group"
	getent passwd libvirt-qemu >/dev/null ||
		echo "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin" >> "$VM_TMP/passwd"
	mount --bind "$VM_TMP/passwd" /etc/passwd && mount --bind "$VM_TMP/group" /etc/group
}

# The QEMU capabilities libvirtd probes at start (seconds of work) are kept
# between test files (libvirtd checks them against the binaries and the
# kernel, and probes again when they are stale); each test starts from its
# own copy. Both directions under a lock: parallel tests share the cache.
_vm_caps_in() {
	[ -d "$VM_CACHE/libvirt-caps" ] || return 0
	mkdir -p /var/cache/libvirt/qemu/capabilities
	cp "$VM_CACHE"/libvirt-caps/*.xml /var/cache/libvirt/qemu/capabilities/ 2>/dev/null
	return 0
}
_vm_caps_out() {
	local f=/var/cache/libvirt/qemu/capabilities
	[ -n "$(ls "$f"/*.xml 2>/dev/null)" ] || return 0
	diff -rq "$f" "$VM_CACHE/libvirt-caps" >/dev/null 2>&1 && return 0
	rm -rf "$VM_CACHE/libvirt-caps" && mkdir -p "$VM_CACHE/libvirt-caps" &&
		cp "$f"/*.xml "$VM_CACHE/libvirt-caps/"
}

vm_need() { # vm_need PROGRAM...: skip the file when one is missing
	local p
	for p in "$@"; do
		command -v "$p" >/dev/null 2>&1 || skip_all "$p is not installed (make deps)"
	done
}

vm_libvirtd() {
	local ns=$1 d i
	vm_need libvirtd virsh qemu-system-x86_64 qemu-img
	[ -e /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so ] ||
		skip_all "libvirt's QEMU driver is not installed (make deps)"
	for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt \
		/etc/libvirt /var/lib/cyris; do
		mkdir -p "$d" && mount -t tmpfs -o mode=755 cyris-test "$d" ||
			skip_all "cannot mount a private $d"
	done
	_vm_accounts || skip_all "cannot bind-mount private account files"
	cat > /etc/libvirt/qemu.conf <<-'EOF'
	user = "root"
	group = "root"
	security_driver = "none"
	cgroup_controllers = [ ]
	namespaces = [ ]
	stdio_handler = "file"
	EOF
	cat > /etc/libvirt/libvirtd.conf <<-'EOF'
	log_outputs = "2:file:/var/log/libvirt/libvirtd.log"
	EOF
	echo 'uri_default = "qemu:///system"' > /etc/libvirt/libvirt.conf
	# the directories a libvirt package creates at install time
	mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/lib/libvirt/dnsmasq
	_vm_locked caps _vm_caps_in
	ip netns exec "$ns" libvirtd -p /run/libvirt/libvirtd.pid > /var/log/libvirt/stderr.log 2>&1 &
	_vm_libvirtd_pid=$!
	wait_for 60 test -S /run/libvirt/libvirt-sock
	virsh -q version >/dev/null 2>&1 || {
		diag "libvirtd did not come up:"
		sed 's/^/#   /' /var/log/libvirt/stderr.log /var/log/libvirt/libvirtd.log 2>/dev/null | tail -20
		skip_all "libvirtd does not start here"
	}
	_vm_locked caps _vm_caps_out
}

# The kernel command line of the fast guest: static address or DHCP.
fast_cmdline() { # fast_cmdline CIDR GW [WORD...] | fast_cmdline dhcp [WORD...]
	if [ "$1" = dhcp ]; then
		shift
		echo "console=ttyS0 quiet panic=-1 cyris.dhcp $*"
	else
		echo "console=ttyS0 quiet panic=-1 cyris.ip=$1 cyris.gw=$2 ${*:3}"
	fi
}

# The domain's state as libvirt says it.
dom_state() { virsh -q domstate "$1" 2>/dev/null | head -1; }
