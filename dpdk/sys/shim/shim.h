/*
 * causeway DPDK shim: out-of-line wrappers for what bindgen cannot bind directly
 * (static inline functions, thread-local variables and macros), plus the DPDK headers
 * the bindings are generated from.
 *
 * Every function here is a one-line forward to the DPDK inline of the same name
 * (shim_X wraps rte_X); semantics and safety requirements are DPDK's.
 */
#ifndef CAUSEWAY_DPDK_SHIM_H
#define CAUSEWAY_DPDK_SHIM_H

#include <stdint.h>

#include <rte_config.h>
#include <rte_common.h>
#include <rte_version.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_bus_vdev.h>
#include <rte_memory.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_eth_ring.h>

/* Thread-local / per-lcore state. */
int shim_rte_errno(void);
void shim_rte_errno_set(int value);
unsigned int shim_rte_lcore_id(void);
int shim_rte_socket_id(void);

/* Time stamp counter. */
uint64_t shim_rte_rdtsc(void);
uint64_t shim_rte_get_tsc_hz(void);

/* Fast-path ethdev. */
uint16_t shim_rte_eth_rx_burst(uint16_t port_id, uint16_t queue_id,
			       struct rte_mbuf **rx_pkts, uint16_t nb_pkts);
uint16_t shim_rte_eth_tx_burst(uint16_t port_id, uint16_t queue_id,
			       struct rte_mbuf **tx_pkts, uint16_t nb_pkts);
uint16_t shim_rte_eth_tx_prepare(uint16_t port_id, uint16_t queue_id,
				 struct rte_mbuf **tx_pkts, uint16_t nb_pkts);
int shim_rte_eth_rx_queue_count(uint16_t port_id, uint16_t queue_id);

/* Mbufs. */
struct rte_mbuf *shim_rte_pktmbuf_alloc(struct rte_mempool *mp);
int shim_rte_pktmbuf_alloc_bulk(struct rte_mempool *pool,
				struct rte_mbuf **mbufs, unsigned int count);
void shim_rte_pktmbuf_free(struct rte_mbuf *m);
void shim_rte_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned int count);
void shim_rte_pktmbuf_reset(struct rte_mbuf *m);
uint16_t shim_rte_mbuf_refcnt_read(const struct rte_mbuf *m);
uint16_t shim_rte_mbuf_refcnt_update(struct rte_mbuf *m, int16_t value);
const void *shim_rte_pktmbuf_read(const struct rte_mbuf *m, uint32_t off,
				  uint32_t len, void *buf);
void *shim_rte_pktmbuf_mtod(const struct rte_mbuf *m);
char *shim_rte_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len);
char *shim_rte_pktmbuf_append(struct rte_mbuf *m, uint16_t len);
char *shim_rte_pktmbuf_adj(struct rte_mbuf *m, uint16_t len);
int shim_rte_pktmbuf_trim(struct rte_mbuf *m, uint16_t len);
uint16_t shim_rte_pktmbuf_headroom(const struct rte_mbuf *m);
uint16_t shim_rte_pktmbuf_tailroom(const struct rte_mbuf *m);
uint16_t shim_rte_pktmbuf_data_room_size(struct rte_mempool *mp);

/* Mempools. */
int shim_rte_mempool_get_bulk(struct rte_mempool *mp, void **obj_table,
			      unsigned int n);
void shim_rte_mempool_put_bulk(struct rte_mempool *mp, void *const *obj_table,
			       unsigned int n);
unsigned int shim_rte_mempool_avail_count(const struct rte_mempool *mp);

/* Rings. */
unsigned int shim_rte_ring_enqueue_burst(struct rte_ring *r,
					 void *const *obj_table, unsigned int n,
					 unsigned int *free_space);
unsigned int shim_rte_ring_dequeue_burst(struct rte_ring *r, void **obj_table,
					 unsigned int n, unsigned int *available);
unsigned int shim_rte_ring_count(const struct rte_ring *r);
unsigned int shim_rte_ring_free_count(const struct rte_ring *r);

#endif /* CAUSEWAY_DPDK_SHIM_H */
