"""Labels of the profile's choice lists. The texts are English message ids; the catalogues translate them."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


OWNERSHIP = {
    "private": N_("Private"), "state_owned": N_("State-owned"), "foreign": N_("Foreign-invested"),
    "collective": N_("Collective"), "mixed": N_("Mixed ownership"), "other": N_("Other"),
}
CERTIFICATIONS = {
    "hnte": N_("High and New Technology Enterprise"),
    "tech_sme": N_("Technology-based SME"),
    "specialized_sme": N_("Specialised, refined, distinctive and innovative SME"),
    "little_giant": N_("\"Little giant\" enterprise"),
    "single_champion": N_("Manufacturing single champion"),
    "chain_leader": N_("Chain leader enterprise"),
    "tech_leader": N_("Technology leader enterprise"),
}
DECLARATIONS = {
    "on_dishonesty_list": N_("On the list of seriously dishonest entities"),
    "main_business_encouraged": N_("Main business is in the encouraged category of the 2024 industrial catalogue"),
    "on_tech_sme_list": N_("On the candidate list for the technology innovation relending"),
    "has_high_rd_intensity": N_("High R&D intensity"),
}
ACTIVITIES = {
    "applied_basic_research": N_("Applied basic research"),
    "key_tech_challenge": N_("Key technology challenge (open competition)"),
    "innovation_consortium": N_("Innovation consortium"),
    "industry_cluster": N_("Modern industry cluster"),
    "industrialisation": N_("Industrialisation / key project"),
    "rd": N_("R&D investment"),
    "pilot_platform": N_("Building a pilot-scale platform"),
    "pilot_services": N_("Buying pilot-scale services"),
    "intl_org": N_("International science organisation"),
    "overseas_incubator": N_("Overseas incubator / proof-of-concept centre"),
    "satellite_services": N_("Satellite communication, navigation or remote-sensing services"),
    "satellite_licence": N_("Satellite basic telecom licence obtained"),
}
TECH_FIELDS = {
    "6g": N_("6G"), "satellite": N_("Satellites"), "scientific_instruments": N_("Scientific instruments"),
    "smart_terminal": N_("Smart terminals"), "secure_software_hardware": N_("Commercial cryptography, own software and hardware"),
    "ai": N_("Artificial intelligence"), "biopharma": N_("Biomedicine and health"),
    "green_low_carbon": N_("Green and low-carbon"), "robotics": N_("Robotics and smart manufacturing"),
    "new_materials": N_("New materials"), "ic": N_("Integrated circuits"), "aerospace": N_("Aerospace"),
    "safety_emergency": N_("Safety and emergency"), "future_industry": N_("Future industries"),
    "next_gen_it": N_("Next-generation IT"), "icv_nev": N_("Intelligent connected / new-energy vehicles"),
    "other": N_("Other"),
}
LOAN_TYPES = {"fixed_asset": N_("Fixed-asset loan"), "working_capital": N_("Working-capital loan"), "other": N_("Other")}
LOAN_PURPOSES = {
    "build_plant": N_("Building plant"), "buy_equipment": N_("Buying equipment"),
    "tech_upgrade": N_("Technical upgrade"), "rd": N_("R&D (incl. R&D staff pay)"),
    "daily_operations": N_("Day-to-day operations"), "refinance": N_("Refinancing (new loan repays old)"),
    "repay_debt": N_("Repaying other debt"), "land": N_("Buying land"),
    "financial_investment": N_("Financial investment"), "real_estate": N_("Real-estate development"),
    "other": N_("Other"),
}
INDUSTRY_CATALOGUE = {"encouraged": N_("Encouraged"), "permitted": N_("Permitted"), "restricted": N_("Restricted"),
                      "eliminated": N_("Eliminated")}
PUBLIC_TRADING = {"m_and_a": N_("M&A / restructuring"), "private_placement": N_("Private placement"),
                  "strategic_placement": N_("Strategic placement"), "other": N_("Other")}
INVESTMENT_FLAGS = {
    "is_disguised_debt": N_("Disguised debt (equity in name, debt in substance)"),
    "is_public_stock_trading": N_("Public stock trading"),
    "permitted_by_fund_plan": N_("Permitted by the fund's plan"),
    "is_derivatives_trading": N_("Futures or other derivatives trading"),
    "provides_guarantee": N_("Provides a guarantee for a firm or project"),
    "bears_unlimited_liability": N_("Bears unlimited liability"),
}
STATUS = {
    "eligible": N_("Eligible"), "needs_confirmation": N_("To confirm"), "ineligible": N_("Ineligible"),
    "not_in_force": N_("Not in force"), "superseded": N_("Superseded"),
}
OUTCOME = {"met": N_("Met"), "failed": N_("Not met"), "unknown": N_("To confirm")}
KINDS = {
    "percent_of_base": N_("Percent of base"), "tiered_percent_of_base": N_("Tiered percent of base"),
    "fixed_award": N_("Fixed award"), "award_up_to_cap": N_("Award up to a cap"),
    "annual_percent_with_cap": N_("Yearly percent with a yearly cap"), "cumulative_cap": N_("Cumulative cap"),
    "loan_interest_subsidy": N_("Loan interest subsidy"), "relending": N_("PBoC relending"),
    "deadline": N_("Deadline"), "compliance": N_("Compliance check"),
}
CONFIDENCE = {"high": N_("High confidence"), "medium": N_("Medium confidence"), "low": N_("Low confidence")}
# a citation whose text restates secondary sources (Cite.wording) says so above the text
WORDING = {"secondary": N_("Restated from secondary sources, not the document's own words")}
SIZE = {"large": N_("Large"), "medium": N_("Medium"), "small": N_("Small"), "micro": N_("Micro")}
EXAMPLES = {
    "songjiang-satellite": N_("Songjiang satellite maker"),
    "beijing-ai-pilot-platform": N_("Beijing AI pilot platform"),
    "guangzhou-manufacturer": N_("Guangzhou manufacturer with loans"),
}
REGIONS = {"national": N_("National"), "shanghai": N_("Shanghai"), "beijing": N_("Beijing"), "guangdong": N_("Guangdong")}

# The self-check form's own field labels (English message ids): the form shows them beside its fields, and its
# error summary names each problem's field with them (forms.field_caption), so the two always read alike.
ENTERPRISE_FIELDS = {
    "": N_("Enterprise"),
    "name": N_("Firm name"), "uscc": N_("Unified social credit code"), "region": N_("Registered region"),
    "industry_code": N_("Industry code (GB/T 4754-2017)"), "ownership": N_("Ownership"),
    "employees": N_("Employees"), "revenue_yuan": N_("Revenue (last year)"), "total_assets_yuan": N_("Total assets"),
    "rd_spend_yuan": N_("R&D spending"), "certifications": N_("Certifications held on the evaluation date"),
    "declarations": N_("Declarations"),
}
AS_OF_FIELD = N_("Evaluation date")
ROWS = {"projects": N_("Project"), "loans": N_("Loan"),  # a row is "<this> <its name>", as its legend reads
        "investments": N_("Investment")}  # (the fund check form's rows)
PROJECT_FIELDS = {
    "id": N_("Project id"), "name": N_("Project name"), "activities": N_("Activities"),
    "fields": N_("Technology fields"), "location": N_("Project location"),
    "total_input_yuan": N_("Total input / investment"), "rd_input_yuan": N_("R&D input"),
    "challenge_amount_yuan": N_("Challenge amount"), "annual_operating_expenses_yuan": N_("Annual operating expenses"),
    "pilot_service_fees_yuan": N_("Pilot-service fees this year"),
    "is_independent_legal_entity": N_("Independent legal entity"), "is_new": N_("Newly built"),
}
LOAN_FIELDS = {
    "id": N_("Loan id"), "lender": N_("Lender"), "principal_yuan": N_("Principal"), "annual_rate": N_("Annual rate"),
    "issue_date": N_("Issue date"), "maturity_date": N_("Maturity date"), "loan_type": N_("Loan type"),
    "purpose": N_("Purpose"), "region_of_use": N_("Where the loan is used"),
    "claimed_under_other_policy": N_("Already claimed under another Guangdong subsidy"),
    "for_tech_upgrade_project": N_("For a listed technical-upgrade project"),
}
ROW_FIELDS = {"projects": PROJECT_FIELDS, "loans": LOAN_FIELDS}
REGION_PARTS = {"province": N_("Province"), "city": N_("City"), "district": N_("District")}

# The fund check form's own field labels, used beside its fields and in its error summary alike (as above).
FUND_FIELDS = {
    "": N_("Fund"),
    "name": N_("Fund name"), "established_date": N_("Established"),
    "first_paid_in_date": N_("First paid-in capital arrived"), "fiscal_year_end": N_("Last fiscal year end"),
    "investments": N_("Investments"),
}
INVESTMENT_FIELDS = {
    "id": N_("Investment id"), "target": N_("Target"), "industry_catalogue": N_("Industry catalogue class"),
    "public_trading_kind": N_("Kind of public trading"), **INVESTMENT_FLAGS,
}
