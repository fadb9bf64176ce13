package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/overlap-go/overlap/internal/storetest"
	"github.com/overlap-go/overlap/store"
)

// BenchmarkAppend measures the stores alone: batches of 4096 records with
// 1 KiB bodies, as the recorder's batcher sends them.
func BenchmarkAppend(b *testing.B) {
	for name, mk := range storetest.URLs(b) {
		b.Run(name, func(b *testing.B) {
			st, err := store.Open(context.Background(), mk(b))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			body := make([]byte, 1023)
			batch := make([]*store.Record, 4096)
			for i := range batch {
				batch[i] = &store.Record{ReceivedAt: time.Now(), ClientIP: "127.0.0.1", ClientPort: 40000 + i, ServerAddr: "127.0.0.1:4096", Body: body, End: store.Framed}
			}
			b.SetBytes(int64(len(batch) * len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := st.Append(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
		})
	}
}
