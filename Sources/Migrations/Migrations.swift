// Migrations: filled in by the migrations work (issue 5).
