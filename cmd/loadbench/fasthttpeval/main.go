// Command fasthttpeval is loadbench's (i): the response gatewatch's own
// listener sent for (a), captured by loadbench to a JSON file, served by
// github.com/valyala/fasthttp, to measure what a lighter HTTP server than
// net/http would allow (issue "Fast where it counts": evaluate one before
// deciding). It is its own module so that gatewatch does not depend on
// fasthttp; loadbench builds it with `go build -C cmd/loadbench/fasthttpeval`.
//
// Usage: fasthttpeval ADDR FILE
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/valyala/fasthttp"
)

// response is loadbench's fixedResponse (fixed.go): status, headers but
// Date, body as sent.
type response struct {
	Status int                 `json:"status"`
	Header map[string][]string `json:"header"`
	Body   []byte              `json:"body"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: fasthttpeval ADDR FILE")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	type kv struct{ k, v []byte }
	var headers []kv
	for k, vs := range r.Header {
		if k == "Content-Length" {
			continue // fasthttp sets it from the body
		}
		for _, v := range vs {
			headers = append(headers, kv{[]byte(k), []byte(v)})
		}
	}
	srv := &fasthttp.Server{
		Handler: func(c *fasthttp.RequestCtx) {
			c.SetStatusCode(r.Status)
			for _, h := range headers {
				c.Response.Header.SetBytesKV(h.k, h.v)
			}
			c.SetBody(r.Body)
		},
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
	}
	if err := srv.ListenAndServe(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
