DROP TABLE recovery_actions;
