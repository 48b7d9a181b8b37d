module github.com/bullseye-mock/bullseye-mock/examples/compose/receiver

go 1.26
