// Command natsnode runs one NATS server with JetStream, set up as
// docs/scaling.md requires (every write fsynced: sync_interval always),
// for `make demo-cluster`: three of them on loopback make a cluster whose
// servers can be killed one by one. In production, run nats-server with
// the configuration in docs/scaling.md instead.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	name := flag.String("name", "n1", "server name, unique in the cluster")
	port := flag.Int("port", 4222, "client port on 127.0.0.1")
	clusterPort := flag.Int("cluster-port", 6222, "route port on 127.0.0.1")
	routes := flag.String("routes", "", "comma-separated route URLs of the other servers, like nats://127.0.0.1:6223")
	store := flag.String("store", "nats-data", "JetStream storage folder")
	flag.Parse()
	o := &server.Options{
		ServerName: *name,
		Host:       "127.0.0.1",
		Port:       *port,
		JetStream:  true,
		StoreDir:   *store,
		SyncAlways: true,
		Cluster:    server.ClusterOpts{Name: "reportline-demo", Host: "127.0.0.1", Port: *clusterPort},
		Routes:     server.RoutesFromStr(*routes),
		NoSigs:     false,
	}
	s, err := server.NewServer(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "natsnode: error: %v\n", err)
		os.Exit(1)
	}
	s.ConfigureLogger()
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		fmt.Fprintf(os.Stderr, "natsnode: error: %s not ready within 30s (are ports %d and %d free?)\n", *name, *port, *clusterPort)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "natsnode: %s ready on 127.0.0.1:%d, routes %s\n", *name, *port, strings.TrimSpace(*routes))
	s.WaitForShutdown()
}
