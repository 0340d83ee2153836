/* Out-of-line wrappers for DPDK inlines, TLS and macros: see shim.h. */
#include "shim.h"

int shim_rte_errno(void) { return rte_errno; }
void shim_rte_errno_set(int value) { rte_errno = value; }
unsigned int shim_rte_lcore_id(void) { return rte_lcore_id(); }
int shim_rte_socket_id(void) { return (int)rte_socket_id(); }

uint64_t shim_rte_rdtsc(void) { return rte_rdtsc(); }
uint64_t shim_rte_get_tsc_hz(void) { return rte_get_tsc_hz(); }

uint16_t shim_rte_eth_rx_burst(uint16_t port_id, uint16_t queue_id,
			       struct rte_mbuf **rx_pkts, uint16_t nb_pkts)
{
	return rte_eth_rx_burst(port_id, queue_id, rx_pkts, nb_pkts);
}

uint16_t shim_rte_eth_tx_burst(uint16_t port_id, uint16_t queue_id,
			       struct rte_mbuf **tx_pkts, uint16_t nb_pkts)
{
	return rte_eth_tx_burst(port_id, queue_id, tx_pkts, nb_pkts);
}

uint16_t shim_rte_eth_tx_prepare(uint16_t port_id, uint16_t queue_id,
				 struct rte_mbuf **tx_pkts, uint16_t nb_pkts)
{
	return rte_eth_tx_prepare(port_id, queue_id, tx_pkts, nb_pkts);
}

int shim_rte_eth_rx_queue_count(uint16_t port_id, uint16_t queue_id)
{
	return rte_eth_rx_queue_count(port_id, queue_id);
}

struct rte_mbuf *shim_rte_pktmbuf_alloc(struct rte_mempool *mp)
{
	return rte_pktmbuf_alloc(mp);
}

int shim_rte_pktmbuf_alloc_bulk(struct rte_mempool *pool,
				struct rte_mbuf **mbufs, unsigned int count)
{
	return rte_pktmbuf_alloc_bulk(pool, mbufs, count);
}

void shim_rte_pktmbuf_free(struct rte_mbuf *m) { rte_pktmbuf_free(m); }

void shim_rte_pktmbuf_free_bulk(struct rte_mbuf **mbufs, unsigned int count)
{
	rte_pktmbuf_free_bulk(mbufs, count);
}

void shim_rte_pktmbuf_reset(struct rte_mbuf *m) { rte_pktmbuf_reset(m); }

uint16_t shim_rte_mbuf_refcnt_read(const struct rte_mbuf *m)
{
	return rte_mbuf_refcnt_read(m);
}

uint16_t shim_rte_mbuf_refcnt_update(struct rte_mbuf *m, int16_t value)
{
	return rte_mbuf_refcnt_update(m, value);
}

const void *shim_rte_pktmbuf_read(const struct rte_mbuf *m, uint32_t off,
				  uint32_t len, void *buf)
{
	return rte_pktmbuf_read(m, off, len, buf);
}

void *shim_rte_pktmbuf_mtod(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, void *);
}

char *shim_rte_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len)
{
	return rte_pktmbuf_prepend(m, len);
}

char *shim_rte_pktmbuf_append(struct rte_mbuf *m, uint16_t len)
{
	return rte_pktmbuf_append(m, len);
}

char *shim_rte_pktmbuf_adj(struct rte_mbuf *m, uint16_t len)
{
	return rte_pktmbuf_adj(m, len);
}

int shim_rte_pktmbuf_trim(struct rte_mbuf *m, uint16_t len)
{
	return rte_pktmbuf_trim(m, len);
}

uint16_t shim_rte_pktmbuf_headroom(const struct rte_mbuf *m)
{
	return rte_pktmbuf_headroom(m);
}

uint16_t shim_rte_pktmbuf_tailroom(const struct rte_mbuf *m)
{
	return rte_pktmbuf_tailroom(m);
}

uint16_t shim_rte_pktmbuf_data_room_size(struct rte_mempool *mp)
{
	return rte_pktmbuf_data_room_size(mp);
}

int shim_rte_mempool_get_bulk(struct rte_mempool *mp, void **obj_table,
			      unsigned int n)
{
	return rte_mempool_get_bulk(mp, obj_table, n);
}

void shim_rte_mempool_put_bulk(struct rte_mempool *mp, void *const *obj_table,
			       unsigned int n)
{
	rte_mempool_put_bulk(mp, obj_table, n);
}

unsigned int shim_rte_mempool_avail_count(const struct rte_mempool *mp)
{
	return rte_mempool_avail_count(mp);
}

unsigned int shim_rte_ring_enqueue_burst(struct rte_ring *r,
					 void *const *obj_table, unsigned int n,
					 unsigned int *free_space)
{
	return rte_ring_enqueue_burst(r, obj_table, n, free_space);
}

unsigned int shim_rte_ring_dequeue_burst(struct rte_ring *r, void **obj_table,
					 unsigned int n, unsigned int *available)
{
	return rte_ring_dequeue_burst(r, obj_table, n, available);
}

unsigned int shim_rte_ring_count(const struct rte_ring *r)
{
	return rte_ring_count(r);
}

unsigned int shim_rte_ring_free_count(const struct rte_ring *r)
{
	return rte_ring_free_count(r);
}
