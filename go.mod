module github.com/bullseye-mock/bullseye-mock

go 1.26.8

require (
	github.com/alecthomas/kong v1.17.0 // indirect
	github.com/brianvoe/gofakeit/v6 v6.28.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/mux v1.8.1 // indirect
	github.com/robfig/cron/v3 v3.0.1 // indirect
)
