/* SPDX-License-Identifier: MIT */
/*
 * libvirt, loaded when first needed. libvirt.so.0 brings 55 shared
 * libraries with it (GLib, GnuTLS, libxml2...), and linking them made
 * every tool that can reach libvirt spend about 20 ms in the dynamic
 * loader before main() — cyris-topo for a range of namespaces included.
 * So vm/libvirt/ calls libvirt through the table below, which
 * virt_dl_load() fills from dlopen("libvirt.so.0") once a process, the
 * first time a connection is opened (net/base/dl-priv.h). A function
 * missing from the table is a link error (libvirt is not linked), so none
 * is called directly. Private to vm/libvirt/.
 */
#ifndef CYRIS_VIRT_DL_H
#define CYRIS_VIRT_DL_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define VIRT_DL_SONAME "libvirt.so.0"

/* every libvirt function vm/libvirt/ calls */
#define VIRT_DL_FUNCS(X) \
	X(virConnSetErrorFunc) \
	X(virConnectClose) \
	X(virConnectGetDomainCapabilities) \
	X(virConnectGetLibVersion) \
	X(virConnectGetURI) \
	X(virConnectGetVersion) \
	X(virConnectIsAlive) \
	X(virConnectListAllDomains) \
	X(virConnectOpen) \
	X(virConnectOpenReadOnly) \
	X(virDomainCreate) \
	X(virDomainDefineXMLFlags) \
	X(virDomainDestroy) \
	X(virDomainFree) \
	X(virDomainGetMetadata) \
	X(virDomainGetName) \
	X(virDomainGetState) \
	X(virDomainGetUUIDString) \
	X(virDomainGetXMLDesc) \
	X(virDomainInterfaceAddresses) \
	X(virDomainInterfaceFree) \
	X(virDomainIsActive) \
	X(virDomainIsPersistent) \
	X(virDomainLookupByName) \
	X(virDomainSetMetadata) \
	X(virDomainShutdown) \
	X(virDomainUndefineFlags) \
	X(virGetLastError) \
	X(virInitialize) \
	X(virNetworkFree) \
	X(virNetworkGetBridgeName) \
	X(virNetworkLookupByName) \
	X(virResetLastError) \
	X(virSetErrorFunc) \
	X(virStoragePoolBuild) \
	X(virStoragePoolCreate) \
	X(virStoragePoolDefineXML) \
	X(virStoragePoolFree) \
	X(virStoragePoolIsActive) \
	X(virStoragePoolLookupByName) \
	X(virStoragePoolRefresh) \
	X(virStoragePoolSetAutostart) \
	X(virStoragePoolUndefine) \
	X(virStorageVolCreateXML) \
	X(virStorageVolDelete) \
	X(virStorageVolFree) \
	X(virStorageVolGetXMLDesc) \
	X(virStorageVolLookupByName) \
	X(virStorageVolLookupByPath) \
	X(virStorageVolUpload) \
	X(virStreamAbort) \
	X(virStreamFinish) \
	X(virStreamFree) \
	X(virStreamNew) \
	X(virStreamSend) \

struct virt_dl {
#define VIRT_DL_MEMBER(f) __typeof__(f) *f;
	VIRT_DL_FUNCS(VIRT_DL_MEMBER)
#undef VIRT_DL_MEMBER
};
extern struct virt_dl virt_dl;

/* Load libvirt and initialise it (virInitialize), once a process; 0, or
 * -ELIBACC when it cannot be loaded (virt_dl_error() says why). */
int virt_dl_load(void);
const char *virt_dl_error(void);

/* libvirt's error handler that drops everything (each connection gets
 * it; the process-wide one only through cyris_vm_quiet_libvirt()) */
void virt_dl_silent(void *userdata, virErrorPtr e);

/* the thread's last error, NULL while libvirt is not loaded; its reset, a
 * no-op then */
virErrorPtr virt_dl_last_error(void);
void virt_dl_reset_last_error(void);

#ifndef VIRT_DL_IMPL
#define virConnSetErrorFunc virt_dl.virConnSetErrorFunc
#define virConnectClose virt_dl.virConnectClose
#define virConnectGetDomainCapabilities virt_dl.virConnectGetDomainCapabilities
#define virConnectGetLibVersion virt_dl.virConnectGetLibVersion
#define virConnectGetURI virt_dl.virConnectGetURI
#define virConnectGetVersion virt_dl.virConnectGetVersion
#define virConnectIsAlive virt_dl.virConnectIsAlive
#define virConnectListAllDomains virt_dl.virConnectListAllDomains
#define virConnectOpen virt_dl.virConnectOpen
#define virConnectOpenReadOnly virt_dl.virConnectOpenReadOnly
#define virDomainCreate virt_dl.virDomainCreate
#define virDomainDefineXMLFlags virt_dl.virDomainDefineXMLFlags
#define virDomainDestroy virt_dl.virDomainDestroy
#define virDomainFree virt_dl.virDomainFree
#define virDomainGetMetadata virt_dl.virDomainGetMetadata
#define virDomainGetName virt_dl.virDomainGetName
#define virDomainGetState virt_dl.virDomainGetState
#define virDomainGetUUIDString virt_dl.virDomainGetUUIDString
#define virDomainGetXMLDesc virt_dl.virDomainGetXMLDesc
#define virDomainInterfaceAddresses virt_dl.virDomainInterfaceAddresses
#define virDomainInterfaceFree virt_dl.virDomainInterfaceFree
#define virDomainIsActive virt_dl.virDomainIsActive
#define virDomainIsPersistent virt_dl.virDomainIsPersistent
#define virDomainLookupByName virt_dl.virDomainLookupByName
#define virDomainSetMetadata virt_dl.virDomainSetMetadata
#define virDomainShutdown virt_dl.virDomainShutdown
#define virDomainUndefineFlags virt_dl.virDomainUndefineFlags
#define virGetLastError virt_dl_last_error
#define virInitialize virt_dl.virInitialize
#define virNetworkFree virt_dl.virNetworkFree
#define virNetworkGetBridgeName virt_dl.virNetworkGetBridgeName
#define virNetworkLookupByName virt_dl.virNetworkLookupByName
#define virResetLastError virt_dl_reset_last_error
#define virSetErrorFunc virt_dl.virSetErrorFunc
#define virStoragePoolBuild virt_dl.virStoragePoolBuild
#define virStoragePoolCreate virt_dl.virStoragePoolCreate
#define virStoragePoolDefineXML virt_dl.virStoragePoolDefineXML
#define virStoragePoolFree virt_dl.virStoragePoolFree
#define virStoragePoolIsActive virt_dl.virStoragePoolIsActive
#define virStoragePoolLookupByName virt_dl.virStoragePoolLookupByName
#define virStoragePoolRefresh virt_dl.virStoragePoolRefresh
#define virStoragePoolSetAutostart virt_dl.virStoragePoolSetAutostart
#define virStoragePoolUndefine virt_dl.virStoragePoolUndefine
#define virStorageVolCreateXML virt_dl.virStorageVolCreateXML
#define virStorageVolDelete virt_dl.virStorageVolDelete
#define virStorageVolFree virt_dl.virStorageVolFree
#define virStorageVolGetXMLDesc virt_dl.virStorageVolGetXMLDesc
#define virStorageVolLookupByName virt_dl.virStorageVolLookupByName
#define virStorageVolLookupByPath virt_dl.virStorageVolLookupByPath
#define virStorageVolUpload virt_dl.virStorageVolUpload
#define virStreamAbort virt_dl.virStreamAbort
#define virStreamFinish virt_dl.virStreamFinish
#define virStreamFree virt_dl.virStreamFree
#define virStreamNew virt_dl.virStreamNew
#define virStreamSend virt_dl.virStreamSend
#endif

#endif
