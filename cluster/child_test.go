package cluster_test

func runChildIfAsked() bool { return false }
