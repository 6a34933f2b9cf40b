/*
 * Layer: the wire format's vocabulary, shared by the control plane
 * (backend/wire.c, backend/agent_doc.c) and the agents (agents/common/,
 * agents/hva/, agents/sta/): backend/ is on both include paths. Nothing
 * but macros, so an agent includes it without the model or jansson.
 *
 * Every member name of every JSON document the agents exchange with
 * vdcfs, and every enumerated word one of them carries, is spelled once,
 * here (docs/agent-protocol.md is the protocol, docs/storage.md and
 * docs/networks.md its parts). Both sides write and read these constants,
 * so a renamed member is renamed on both sides at once, and the round-trip
 * tests (tests/unit/test_wire_roundtrip.c) render each document with one
 * side and parse it with the other.
 *
 * Contract
 * --------
 * - One definition per name: a member that several documents carry ("id",
 *   "state", "err", ...) is defined with the first document that has it,
 *   and the later documents name it in their list.
 * - Each document's comment lists its members in the order they are
 *   written (the order on the wire: golden files and tests compare the
 *   bytes), says who writes it and who reads it.
 * - A change of a value here is a change of the protocol (and of
 *   docs/agent-protocol.md); agents and vdcfs of one build always agree.
 * - Messages (error sentences) still spell member names in their text:
 *   they are prose for a person, not the wire.
 */
#ifndef VDC_WIRE_DOC_H
#define VDC_WIRE_DOC_H

/*
 * The desired state of a hypervisor, GET /v1/hosts/NAME/desired
 * (docs/agent-protocol.md, "Desired state (long-poll)"). Written by
 * backend/wire.c (vdc_wire_desired), read by agents/hva/desired.c
 * (hva_desired_parse).
 *
 * {rev, dc, heartbeat, initiator, instances: [instance], networks:
 *  [network], security_groups: [group]}
 */
#define VDC_WIRE_REV "rev"
#define VDC_WIRE_DC "dc"
#define VDC_WIRE_HEARTBEAT "heartbeat"
#define VDC_WIRE_INITIATOR "initiator"
#define VDC_WIRE_INSTANCES "instances"
#define VDC_WIRE_NETWORKS "networks"
#define VDC_WIRE_SECURITY_GROUPS "security_groups"

/*
 * An instance: {id, name, domain, power, cpus, memory_mib, hostname,
 * user_data, ssh_keys: [text], image: image or null, nics: [nic], reboot,
 * reset, volumes: [attachment], security_groups: [name]}.
 */
#define VDC_WIRE_ID "id"
#define VDC_WIRE_NAME "name"
#define VDC_WIRE_DOMAIN "domain"
#define VDC_WIRE_POWER "power"
#define VDC_WIRE_CPUS "cpus"
#define VDC_WIRE_MEMORY_MIB "memory_mib"
#define VDC_WIRE_HOSTNAME "hostname"
#define VDC_WIRE_USER_DATA "user_data"
#define VDC_WIRE_SSH_KEYS "ssh_keys"
#define VDC_WIRE_IMAGE "image"
#define VDC_WIRE_NICS "nics"
#define VDC_WIRE_REBOOT "reboot"
#define VDC_WIRE_RESET "reset"
#define VDC_WIRE_VOLUMES "volumes"
#define VDC_WIRE_DISK "disk"        /* the root disk on a storage host: a volume's endpoint and "ready" */
#define VDC_WIRE_READY "ready"

/*
 * Live migration (docs/storage.md, "Moving"): the hypervisor's "pki"
 * {ca, cert, key} (top level); an instance's "migrate" {seq, to, uri,
 * address, initiator} on the source host and "incoming" {from} on the
 * destination.
 */
#define VDC_WIRE_PKI "pki"
#define VDC_WIRE_PKI_CA "ca"
#define VDC_WIRE_PKI_CERT "cert"
#define VDC_WIRE_PKI_KEY "key"
#define VDC_WIRE_MIGRATE "migrate"
#define VDC_WIRE_MIGRATE_TO "to"
#define VDC_WIRE_MIGRATE_URI "uri"
#define VDC_WIRE_MIGRATE_ADDRESS "address"
#define VDC_WIRE_MIGRATE_INITIATOR "initiator"  /* the destination's iSCSI initiator name */
#define VDC_WIRE_INCOMING "incoming"
#define VDC_WIRE_INCOMING_FROM "from"

/* The words of "power". */
#define VDC_WIRE_POWER_ON "on"
#define VDC_WIRE_POWER_OFF "off"

/* An image: {name, size, format, sha256} ("sha256" only once vdcfs has computed it). */
#define VDC_WIRE_SIZE "size"
#define VDC_WIRE_FORMAT "format"
#define VDC_WIRE_SHA256 "sha256"

/* The words of "format". */
#define VDC_WIRE_FORMAT_RAW "raw"
#define VDC_WIRE_FORMAT_QCOW2 "qcow2"

/* A nic: {id, name, mac, network, ip} (network and ip may be null). */
#define VDC_WIRE_MAC "mac"
#define VDC_WIRE_NETWORK "network"
#define VDC_WIRE_IP "ip"

/*
 * A volume an instance attaches (docs/storage.md): {id, name, link,
 * portal, iqn, lun, chap_user, chap_secret, size, serial}.
 */
#define VDC_WIRE_LINK "link"
#define VDC_WIRE_PORTAL "portal"
#define VDC_WIRE_IQN "iqn"
#define VDC_WIRE_LUN "lun"
#define VDC_WIRE_CHAP_USER "chap_user"
#define VDC_WIRE_CHAP_SECRET "chap_secret"
#define VDC_WIRE_SERIAL "serial"

/*
 * A network (docs/networks.md): {name, vni, cidr, gateway, dhcp, dns:
 * [address], server, server_mac, peers: [address], remote: [{mac, ip,
 * peer}]}.
 */
#define VDC_WIRE_VNI "vni"
#define VDC_WIRE_CIDR "cidr"
#define VDC_WIRE_GATEWAY "gateway"
#define VDC_WIRE_DHCP "dhcp"
#define VDC_WIRE_DNS "dns"
#define VDC_WIRE_SERVER "server"
#define VDC_WIRE_SERVER_MAC "server_mac"
#define VDC_WIRE_PEERS "peers"
#define VDC_WIRE_REMOTE "remote"
#define VDC_WIRE_PEER "peer"

/* A security group: {name, rules, members: [address]}. */
#define VDC_WIRE_RULES "rules"
#define VDC_WIRE_MEMBERS "members"

/*
 * The desired state of a storage host (docs/storage.md, "Desired state
 * of a storage host"). Written by backend/wire.c (vdc_wire_desired),
 * read by agents/sta/desired.c (sta_desired_parse).
 *
 * {rev, dc, heartbeat, volumes: [volume]}
 * A volume: {id, name, iqn, size, chap_user, chap_secret, initiators:
 * [iqn], snapshots: [{id, name}], restore: {n, snapshot} or {n, volume}
 * or null, image: (an instance's root disk) the image it is first made
 * from, as an instance's "image", or absent}.
 * A restore names its source by exactly one of "snapshot" (a snapshot's
 * id) and "volume" (the id of another entry of the same list: the
 * volume's bytes become a clone of that one's, `cp` of a disk or a
 * volume's data through copy_file_range).
 */
#define VDC_WIRE_INITIATORS "initiators"
#define VDC_WIRE_SNAPSHOTS "snapshots"
#define VDC_WIRE_RESTORE "restore"
#define VDC_WIRE_N "n"
#define VDC_WIRE_SNAPSHOT "snapshot"
#define VDC_WIRE_VOLUME "volume"

/*
 * A hypervisor's report, POST /v1/hosts/NAME/report
 * (docs/agent-protocol.md, "Report"). Written by agents/hva/report_doc.c
 * (the words of agents/hva/report.c and volume.c), read by
 * backend/agent_doc.c (vdc_doc_hva_report_parse).
 *
 * {epoch, seq, rev, facts: {cpus, memory_mib, driver, virt, libvirt,
 *  version, underlay}, usage: {cpu, load}, instances: [{id, domain,
 *  state, err, ip, reboot, reset, volumes: [{id, state, err}], migrated,
 *  progress, usage: {cpu, cpu_time_ns, memory_kib, disk_read,
 *  disk_written, net_received, net_sent, uptime}}]}
 */
#define VDC_WIRE_EPOCH "epoch"
#define VDC_WIRE_SEQ "seq"
#define VDC_WIRE_FACTS "facts"
#define VDC_WIRE_DRIVER "driver"
#define VDC_WIRE_VIRT "virt"
#define VDC_WIRE_LIBVIRT "libvirt"
#define VDC_WIRE_VERSION "version"
#define VDC_WIRE_UNDERLAY "underlay"
#define VDC_WIRE_STATE "state"
#define VDC_WIRE_ERR "err"

/* The word of any entry of a report that failed, its sentence in "err". */
#define VDC_WIRE_STATE_ERROR "error"

/* An instance's "state" as a hypervisor reports it (and "error"). */
#define VDC_WIRE_INST_STARTING "starting"
#define VDC_WIRE_INST_RUNNING "running"
#define VDC_WIRE_INST_PAUSED "paused"
#define VDC_WIRE_INST_STOPPING "stopping"
#define VDC_WIRE_INST_STOPPED "stopped"
#define VDC_WIRE_INST_CRASHED "crashed"
/* Live migration: the source's "migrating" and "migrated", the destination's "incoming". */
#define VDC_WIRE_INST_MIGRATING "migrating"
#define VDC_WIRE_INST_MIGRATED "migrated"
#define VDC_WIRE_INST_INCOMING "incoming"
/* An instance's last migration carried out ("migrated", a counter) and its "progress" (below). */
#define VDC_WIRE_MIGRATED "migrated"

/*
 * Usage figures (docs/agent-protocol.md, "Usage"): the host's "usage"
 * {cpu, load: [1, 5, 15 minutes]} and a running instance's "usage" {cpu,
 * cpu_time_ns, memory_kib, disk_read, disk_written, net_received,
 * net_sent, uptime}, every member optional (absent: not known). "cpu" is
 * in hundredths of a percent of one host CPU (1250 is 12.5 %), each load
 * average in hundredths (52 is 0.52), bytes and seconds as they are.
 */
#define VDC_WIRE_USAGE "usage"
#define VDC_WIRE_CPU "cpu"
#define VDC_WIRE_LOAD "load"
#define VDC_WIRE_CPU_TIME_NS "cpu_time_ns"
#define VDC_WIRE_MEMORY_KIB "memory_kib"
#define VDC_WIRE_DISK_READ "disk_read"
#define VDC_WIRE_DISK_WRITTEN "disk_written"
#define VDC_WIRE_NET_RECEIVED "net_received"
#define VDC_WIRE_NET_SENT "net_sent"
#define VDC_WIRE_UPTIME "uptime"

/* An attached volume's "state" as a hypervisor reports it (and "error"). */
#define VDC_WIRE_ATTACH_ATTACHED "attached"
#define VDC_WIRE_ATTACH_DETACHING "detaching"

/*
 * A storage host's report (docs/storage.md, "Report of a storage
 * host"). Written by agents/sta/report_doc.c (the words of
 * agents/sta/reconcile.c), read by backend/agent_doc.c
 * (vdc_doc_sta_report_parse).
 *
 * {epoch, seq, rev, facts: {disk_mib, driver, portal, version}, volumes:
 *  [{id, state, err, size, restore, snapshots: [{id, state, err}],
 *  allocated, progress}]}
 */
#define VDC_WIRE_DISK_MIB "disk_mib"
#define VDC_WIRE_ALLOCATED "allocated"
#define VDC_WIRE_PROGRESS "progress"

/* A volume's and a snapshot's "state" as a storage host reports it (and "error"). */
#define VDC_WIRE_VOL_CREATING "creating"
#define VDC_WIRE_VOL_AVAILABLE "available"

/*
 * The join, POST /v1/join (docs/agent-protocol.md, "Joining"). Written
 * by agents/common/proto.c, read by backend/agent_doc.c
 * (vdc_doc_join_parse): {name, token, kind}; answered by backend/wire.c
 * (vdc_wire_joined), read by agents/common/proto.c: {name, token}.
 */
#define VDC_WIRE_TOKEN "token"
#define VDC_WIRE_KIND "kind"

/* The words of "kind". */
#define VDC_WIRE_KIND_HVA "hva"
#define VDC_WIRE_KIND_STA "sta"

/*
 * The server's short answers, written by backend/wire.c and read by
 * agents/common/proto.c: {error} with a status that is not 2xx, {ok},
 * and a console upload's {have}.
 */
#define VDC_WIRE_ERROR "error"
#define VDC_WIRE_OK "ok"
#define VDC_WIRE_HAVE "have"

/*
 * Console input for a hypervisor's guests, GET
 * /v1/hosts/NAME/console-input?wait=S (docs/agent-protocol.md, "Console
 * input"). Written by backend/wire.c (vdc_wire_console_input), read by
 * agents/hva/console_input.c (hva_console_input_parse):
 *
 * {input: [{id, hex}]}
 *
 * One entry per instance with bytes: its id and its bytes as lowercase
 * hex digits, two per byte (keystrokes are any bytes, JSON strings are
 * UTF-8).
 */
#define VDC_WIRE_INPUT "input"
#define VDC_WIRE_HEX "hex"

#endif
