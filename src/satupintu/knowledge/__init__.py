"""The knowledge base: versioned SOPs, work instructions, policies, FAQs and product facts."""
