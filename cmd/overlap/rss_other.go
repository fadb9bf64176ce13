//go:build !unix

package main

// maxRSSMiB is not measured on this system.
func maxRSSMiB() float64 { return 0 }
