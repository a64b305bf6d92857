DROP TABLE onboarding;
