"""Webhooks to the CRM: where a delivery may go (`http`), and how it is signed (`signing`)."""
