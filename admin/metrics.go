// Prometheus metrics at /metrics, in the text exposition format. Written by
// hand: a dozen gauges and counters from counters the services already
// keep do not justify client_golang and its dependencies.

package admin

import (
	"fmt"
	"net/http"
	"strings"
)

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	st := s.status()
	var b strings.Builder
	metric := func(name, typ, help string, value func(ss ServiceStatus) (float64, bool)) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, ss := range st.Services {
			if v, ok := value(ss); ok {
				fmt.Fprintf(&b, "%s{service=%q} %g\n", name, ss.Name, v)
			}
		}
	}
	metric("overlap_up", "gauge", "Whether the service is listening.", func(ss ServiceStatus) (float64, bool) {
		if ss.Running {
			return 1, true
		}
		return 0, true
	})
	metric("overlap_open_connections", "gauge", "Open client connections.", func(ss ServiceStatus) (float64, bool) {
		return float64(ss.Stats.Conns), ss.counted
	})
	metric("overlap_received_bytes_total", "counter", "Bytes received from clients.", func(ss ServiceStatus) (float64, bool) {
		return float64(ss.Stats.BytesIn), ss.Stats.Counted
	})
	metric("overlap_messages_total", "counter", "Messages (records) received.", func(ss ServiceStatus) (float64, bool) {
		return float64(ss.Stats.Messages), ss.Stats.Counted
	})
	for _, ss := range st.Services {
		if d, ok := ss.Extended.(RecorderDetails); ok {
			fmt.Fprintf(&b, "# HELP overlap_records_stored_total Records committed to the store.\n# TYPE overlap_records_stored_total counter\noverlap_records_stored_total{service=%q} %d\n", ss.Name, d.Stored)
			fmt.Fprintf(&b, "# HELP overlap_store_pending_bytes Bytes of records waiting for their commit.\n# TYPE overlap_store_pending_bytes gauge\noverlap_store_pending_bytes{service=%q} %d\n", ss.Name, d.Pending)
			fmt.Fprintf(&b, "# HELP overlap_store_errors_total Failed store transactions (retried).\n# TYPE overlap_store_errors_total counter\noverlap_store_errors_total{service=%q} %d\n", ss.Name, d.StoreFailures)
			fmt.Fprintf(&b, "# HELP overlap_store_commit_seconds Duration of the last store transaction.\n# TYPE overlap_store_commit_seconds gauge\noverlap_store_commit_seconds{service=%q} %g\n", ss.Name, d.LastCommit.Seconds())
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}
